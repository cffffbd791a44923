// Shared fixtures of the watched-directory integration tests: a simulated cluster (real etcd, engine
// and agents with in-memory systemd), temp directories, watchers stopped after each test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll } from 'vitest';
import {
  startUnitDirWatcher,
  type UnitDirWatcher,
  type UnitDirWatcherOptions,
} from '../../cli/watch/watcher.js';
import { etcdRegistryOn } from '../../registry/etcd-registry.js';
import { jobKey } from '../../registry/keys.js';
import type { Registry } from '../../registry/types.js';
import type { Logger } from '../../units/log.js';
import { parseUnitFile } from '../../units/parse.js';
import { unitHash } from '../../units/serialize.js';
import type { UnitSpec } from '../../units/types.js';
import { type SimCluster, startSimCluster } from '../support/sim-cluster.js';

export const unitText = (what: string) =>
  `[Unit]\nDescription=${what}\n\n[Service]\nExecStart=/bin/sleep infinity\n`;
export const hashOf = (text: string) => unitHash(parseUnitFile(text));
export const unitSpecOf = (name: string, text: string, origin: string): UnitSpec => {
  const options = parseUnitFile(text);
  return { name, hash: unitHash(options), options, desiredState: 'launched', origin };
};

export let cluster: SimCluster;
export let registry: Registry;
const dirs: string[] = [];
export const watchers: UnitDirWatcher[] = [];

/** Starts the cluster for the calling test file and tears it (and every watcher, dir) down after. */
export function useWatchDirCluster(): void {
  beforeAll(async () => {
    cluster = await startSimCluster();
    registry = etcdRegistryOn(cluster.ns);
  });

  afterEach(async () => {
    for (const w of watchers.splice(0)) await w.stop();
  });

  afterAll(async () => {
    for (const w of watchers.splice(0)) await w.stop();
    await cluster?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
}

export function newDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fleet-ts-watch-'));
  dirs.push(d);
  return d;
}

/** A logger whose lines the test can read. */
export function captureLog(): { log: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const log = pino(
    { level: 'info' },
    {
      write(s: string) {
        const o = JSON.parse(s) as { level: number; msg: string };
        lines.push({ level: o.level, msg: o.msg });
      },
    },
  );
  return { log, lines };
}

export function watchDir(
  dir: string,
  extra: Partial<UnitDirWatcherOptions> = {},
): { watcher: UnitDirWatcher; lines: { level: number; msg: string }[] } {
  const { log, lines } = captureLog();
  const watcher = startUnitDirWatcher({
    dir,
    registry,
    log,
    debounceMs: 50,
    settleMs: 0,
    rescanIntervalMs: 1000,
    waitActive: { timeoutMs: 10_000, pollMs: 50, minHealthyMs: 200 },
    ...extra,
  });
  watchers.push(watcher);
  return { watcher, lines };
}

export const running = (unit: string) => cluster.machines.some((m) => m.systemd.isRunning(unit));

/** The unit's state as the agents report it: hash and active on its machine. */
export async function activeHash(unit: string): Promise<string | undefined> {
  const u = await registry.getUnit(unit);
  if (!u?.machineID) return undefined;
  const r = (await registry.listUnitStates()).find((s) => s.unit === unit && s.machineID === u.machineID);
  return r && r.agentState === 'launched' && r.systemd.active === 'active' ? r.hash : undefined;
}

export async function jobVersion(unit: string): Promise<number> {
  const res = await cluster.ns.get(jobKey(unit)).exec();
  return Number(res.kvs[0]?.version ?? 0);
}
