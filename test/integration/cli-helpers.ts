// Runs the real fleetctl entry (main) in-process against a simulated cluster, capturing its output,
// through either driver: etcd directly, or fleetd's HTTP API on a temp unix socket.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ApiServer, startApiServer } from '../../api/listen.js';
import { readLocalFile } from '../../cli/fleetctl/io.js';
import { main } from '../../cli/fleetctl/program.js';
import { unitModel } from '../../cli/fleetctl/unit-model.js';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import { createLogger } from '../../units/log.js';
import { apiListenConfig } from '../support/api-config.js';
import { SIM_PREFIX, type SimCluster, startSimCluster } from '../support/sim-cluster.js';

export type CliDriver = 'etcd' | 'api';

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

export function fleetctlAt(
  endpoint: string,
  cwd: string,
  env: Record<string, string> = {},
  driver: CliDriver = 'etcd',
) {
  return async (...args: string[]): Promise<RunResult> => {
    let stdout = '';
    let stderr = '';
    const code = await main(
      [`--driver=${driver}`, `--endpoint=${endpoint}`, ...args],
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
        sleep,
      },
      { model: unitModel, driver: { openEtcd: openEtcdRegistry } },
    );
    return { code, stdout, stderr };
  };
}

/** A simulated cluster and the --endpoint fleetctl uses to reach it with one driver. */
export interface CliTarget {
  readonly driver: CliDriver;
  readonly cluster: SimCluster;
  /** `http://127.0.0.1:<etcd port>` for etcd, `unix://<temp dir>/fleet.sock` for the API. */
  readonly endpoint: string;
  /** The API server (api driver only), e.g. to swap its registry. */
  readonly api?: { readonly server: ApiServer; readonly registry: EtcdRegistry };
  stop(): Promise<void>;
}

/**
 * Starts a simulated cluster; for the api driver also fleetd's API (the real handler and listener)
 * over the same etcd on a unix socket in a temp dir. stop() removes everything, also after a failed start.
 */
export async function startCliTarget(driver: CliDriver): Promise<CliTarget> {
  const cluster = await startSimCluster();
  if (driver === 'etcd') return { driver, cluster, endpoint: cluster.endpoint, stop: () => cluster.stop() };
  const sockDir = mkdtempSync(join(tmpdir(), 'fleet-ts-cli-api-'));
  const registry = openEtcdRegistry({
    endpoints: [cluster.endpoint],
    keyPrefix: SIM_PREFIX,
    requestTimeoutMs: 5000,
  });
  let server: ApiServer | undefined;
  const stop = async (): Promise<void> => {
    await server?.close();
    await registry.close();
    await cluster.stop();
    rmSync(sockDir, { recursive: true, force: true });
  };
  const sock = join(sockDir, 'fleet.sock');
  try {
    server = await startApiServer(
      apiListenConfig({ apiSocket: sock }),
      registry,
      createLogger('cli-api-test', { level: 'silent' }),
      { env: {} },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { driver, cluster, endpoint: `unix://${sock}`, api: { server, registry }, stop };
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
  timeoutMs = 60_000,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
