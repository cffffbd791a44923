// Runs the real fleetctl entry (main) in-process against a simulated cluster, capturing its output.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLocalFile } from '../../cli/fleetctl/io.js';
import { main } from '../../cli/fleetctl/program.js';
import { unitModel } from '../../cli/fleetctl/unit-model.js';
import { openEtcdRegistry } from '../../units/registry/etcd-registry.js';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function unitDir(files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-ts-cli-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

export function fleetctlAt(endpoint: string, cwd: string, env: Record<string, string> = {}) {
  return async (...args: string[]): Promise<RunResult> => {
    let stdout = '';
    let stderr = '';
    const code = await main(
      ['--driver=etcd', `--endpoint=${endpoint}`, ...args],
      {
        stdout: (s) => {
          stdout += s;
        },
        stderr: (s) => {
          stderr += s;
        },
        env,
        cwd,
        readLocalFile,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      },
      { model: unitModel, driver: { openEtcd: openEtcdRegistry } },
    );
    return { code, stdout, stderr };
  };
}

const FIXTURES = new URL('../fixtures/cli/', import.meta.url).pathname;

/** Golden output (real TABs). FLEET_UPDATE_GOLDEN=1 rewrites the file from the actual output. */
export function golden(name: string, actual: string): { actual: string; expected: string } {
  const path = join(FIXTURES, name);
  if (process.env.FLEET_UPDATE_GOLDEN === '1') writeFileSync(path, actual);
  return { actual, expected: readFileSync(path, 'utf8') };
}

export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
