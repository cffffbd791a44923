// MariaDB inside the e2e machines, as the database examples run it: SQL through the instance's unix socket
// (root by unix_socket authentication, as mariadb-install-db sets it up), wsrep status, and a 1 Hz
// sampler of a Galera node's view (cluster size/status) and of writes through it, for the machine-loss
// figures. The machines boot the host's /usr, so the host's packages are what they run.
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from '../support/nspawn.js';
import { listUnits, machineByID, until } from './fleet-scenario.js';

const REQUIRED = [
  '/usr/sbin/mariadbd',
  '/usr/bin/mariadb',
  '/usr/lib/galera/libgalera_smm.so',
  '/usr/bin/rsync',
];

/** Fails loudly (never skips) when the Debian packages the examples need are missing. */
export function requireMariaDB(): void {
  const missing = REQUIRED.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(', ')} missing: install mariadb-server galera-4 rsync (scripts/install-deps.sh)`,
    );
  }
}

export const galeraSocket = (instance: string | number) => `/run/galera/${instance}/mysqld.sock`;

/** Runs SQL in a machine through a server's socket; tab-separated rows without headers. Throws on error. */
export async function sql(
  cluster: Cluster,
  machine: string,
  socket: string,
  query: string,
  timeoutMs = 30_000,
): Promise<string> {
  const r = await cluster.exec(machine, ['mariadb', `--socket=${socket}`, '-N', '-B', '-e', query], {
    timeoutMs,
  });
  if (r.code !== 0) throw new Error(`[${machine}] ${query}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Global status variables by name. */
export async function status(
  cluster: Cluster,
  machine: string,
  socket: string,
  names: readonly string[],
): Promise<Record<string, string>> {
  const list = names.map((n) => `'${n}'`).join(',');
  const out = await sql(
    cluster,
    machine,
    socket,
    `SHOW GLOBAL STATUS WHERE Variable_name IN (${list})`,
    10_000,
  );
  const result: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const [k, v] = line.split('\t');
    if (k) result[k] = v ?? '';
  }
  return result;
}

/** Name of the machine fleet reports `unit` active on (undefined while it is not). */
export async function activeMachineOf(cluster: Cluster, unit: string): Promise<string | undefined> {
  const row = (await listUnits(cluster)).find((r) => r.unit === unit && r.active === 'active');
  return row?.machine ? machineByID(cluster, row.machine.id) : undefined;
}

/** Waits until the Galera node of `instance` on `machine` is synced in a primary component of `size`. */
export async function waitSynced(
  cluster: Cluster,
  machine: string,
  instance: number,
  size: number,
  timeoutMs: number,
): Promise<void> {
  await until(
    `galera@${instance} on ${machine} synced in a cluster of ${size}`,
    timeoutMs,
    async () => {
      const s = await status(cluster, machine, galeraSocket(instance), [
        'wsrep_cluster_size',
        'wsrep_cluster_status',
        'wsrep_local_state_comment',
      ]);
      return s.wsrep_cluster_size === String(size) &&
        s.wsrep_cluster_status === 'Primary' &&
        s.wsrep_local_state_comment === 'Synced'
        ? true
        : undefined;
    },
    1000,
  );
}

export interface StatusSample {
  readonly at: number;
  readonly size: number | null;
  readonly primary: boolean;
  readonly error?: string;
}

export interface WriteSample {
  readonly at: number;
  readonly ms: number;
  readonly ok: boolean;
  readonly error?: string;
}

/**
 * Samples one node every second until stop(): its wsrep_cluster_size and whether it is in the primary
 * component (one loop), and an INSERT into `table` through it (another loop, so a write that waits for
 * Galera does not delay the status samples). Each write inserts its own number into column `n`.
 */
export function startSampler(cluster: Cluster, machine: string, socket: string, table: string) {
  let stopped = false;
  const statuses: StatusSample[] = [];
  const writes: WriteSample[] = [];
  const tick = async (started: number) => sleep(Math.max(0, 1000 - (Date.now() - started)));
  const statusLoop = (async () => {
    while (!stopped) {
      const at = Date.now();
      try {
        const s = await status(cluster, machine, socket, ['wsrep_cluster_size', 'wsrep_cluster_status']);
        statuses.push({
          at,
          size: Number(s.wsrep_cluster_size),
          primary: s.wsrep_cluster_status === 'Primary',
        });
      } catch (err) {
        statuses.push({ at, size: null, primary: false, error: (err as Error).message });
      }
      await tick(at);
    }
  })();
  const writeLoop = (async () => {
    for (let n = 1; !stopped; n++) {
      const at = Date.now();
      try {
        await sql(cluster, machine, socket, `INSERT INTO ${table} (n) VALUES (${n})`, 60_000);
        writes.push({ at, ms: Date.now() - at, ok: true });
      } catch (err) {
        writes.push({ at, ms: Date.now() - at, ok: false, error: (err as Error).message });
      }
      await tick(at);
    }
  })();
  return {
    async stop(): Promise<{ statuses: StatusSample[]; writes: WriteSample[] }> {
      stopped = true;
      await Promise.all([statusLoop, writeLoop]);
      return { statuses, writes };
    },
  };
}

/** Longest span (ms) of consecutive samples matching `bad`, from the first bad one to the next good one. */
export function longestSpan<T extends { at: number }>(samples: readonly T[], bad: (s: T) => boolean): number {
  let longest = 0;
  let start: number | null = null;
  for (const s of samples) {
    if (bad(s)) start ??= s.at;
    else if (start !== null) {
      longest = Math.max(longest, s.at - start);
      start = null;
    }
  }
  const last = samples.at(-1);
  if (start !== null && last) longest = Math.max(longest, last.at - start + 1000);
  return longest;
}

export const seconds = (ms: number) => (ms / 1000).toFixed(1);
