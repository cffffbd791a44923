import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// Lint, format and strict typecheck are part of the test suite, so CI fails on them.
function run(cmd: string, args: string[]): { code: number; out: string } {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, out };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    return { code: e.status ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('code quality', () => {
  it('biome lint and format report nothing', () => {
    const r = run('node_modules/.bin/biome', ['check', '.']);
    expect(r.out.slice(-3000), r.out.slice(-3000)).not.toMatch(/Found \d+ error/);
    expect(r.code).toBe(0);
  }, 600_000); // whole-project passes: minutes on a loaded 2-core machine

  it('tsc --strict typechecks sources, tests and benchmarks', () => {
    const r = run('node_modules/.bin/tsc', ['-p', 'tsconfig.test.json']);
    expect(r.out.slice(0, 3000)).toBe('');
    expect(r.code).toBe(0);
  }, 600_000); // whole-project passes: minutes on a loaded 2-core machine

  it('tsc --strict typechecks the web console (browser code, DOM types)', () => {
    const r = run('node_modules/.bin/tsc', ['-p', 'api/ui/client/tsconfig.json']);
    expect(r.out.slice(0, 3000)).toBe('');
    expect(r.code).toBe(0);
  }, 600_000);
});
