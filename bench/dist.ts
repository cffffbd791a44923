// The benchmark times the compiled fleetctl (`node dist/cli/fleetctl.js`), which is what users run, so
// dist/ must match the sources: a stale dist would time old code. ensureFreshDist() builds when any
// compiled source is newer than its output (or the output is missing) and fails with one clear line
// when the build fails or leaves dist stale.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SOURCE_DIRS } from '../test/support/source-dirs.js';

/** Sources whose dist/<path>.js is missing or older than the source, relative to root. */
export function staleOutputs(root: string): string[] {
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      // tsconfig.json excludes the web console's browser code (bundled separately, no dist/ output).
      if (e.isDirectory()) {
        if (relative(root, p) !== join('api', 'ui', 'client')) walk(p);
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        const rel = relative(root, p);
        const out = join(root, 'dist', rel.replace(/\.ts$/, '.js'));
        let outMs: number;
        try {
          outMs = statSync(out).mtimeMs;
        } catch {
          stale.push(rel);
          continue;
        }
        if (statSync(p).mtimeMs > outMs) stale.push(rel);
      }
    }
  };
  for (const d of SOURCE_DIRS) walk(join(root, d));
  return stale;
}

/** Builds dist/ when stale; throws a one-line error when that is not possible. */
export function ensureFreshDist(root: string, progress: (msg: string) => void): void {
  const before = staleOutputs(root);
  if (before.length === 0) return;
  progress(`dist/ is stale (${before.length} files, e.g. ${before[0]}): npm run build`);
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    const first = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').find((l) => /error/i.test(l)) ?? '';
    throw new Error(
      `dist/ is stale and \`npm run build\` failed (exit ${r.status ?? r.signal}): ${first.trim() || 'see npm run build'}; ` +
        'fleetctl timings need the compiled CLI',
    );
  }
  const after = staleOutputs(root);
  if (after.length > 0)
    throw new Error(`dist/ still stale after \`npm run build\` (e.g. ${after[0]}); fleetctl timings need it`);
}
