// Shared fixtures of the cluster cron integration tests: one real etcd per test file, a fresh key
// prefix per test, simulated machines (real agents over the in-memory systemd) and engine nodes
// (leader election + planner + cron), all stopped after each test.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3, Namespace } from 'etcd3';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { type Agent, startAgent } from '../../agent/agent.js';
import { InMemorySystemd } from '../../agent/systemd/fake.js';
import { UnitFileStore } from '../../agent/unit-files.js';
import { type Cron, startCron } from '../../engine/cron/cron.js';
import { type Engine, startEngine } from '../../engine/engine.js';
import { createLeaderElection, type LeaderElection } from '../../engine/leader.js';
import { EtcdAgentStore } from '../../registry/agent-store.js';
import { createEtcdClient } from '../../registry/client.js';
import { createEngineStore } from '../../registry/engine-store.js';
import { createRunReporter, listRuns } from '../../registry/runs.js';
import type { RunRecord } from '../../units/runs.js';
import { quietLog, serviceText, waitFor } from '../support/campaign-fixtures.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';

export let etcd: EtcdServer;
const clients: Etcd3[] = [];
export let cleanups: (() => Promise<void>)[] = [];
let prefixN = 0;

/** Starts etcd for the calling test file; stops whatever each test started, and etcd at the end. */
export function useCronEtcd(): void {
  beforeAll(async () => {
    etcd = await startEtcd();
  }, 180_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await etcd?.stop();
  });

  afterEach(async () => {
    for (const f of cleanups.reverse()) await f().catch(() => undefined);
    cleanups = [];
  });
}

export let lastPrefix = '';
export function freshNs(): Namespace {
  const prefix = `/cron-test-${process.pid}-${prefixN++}/`;
  lastPrefix = prefix;
  const client = createEtcdClient({ endpoints: [etcd.endpoint], keyPrefix: prefix, requestTimeoutMs: 2000 });
  clients.push(client);
  return client.namespace(prefix);
}

export interface Machine {
  readonly id: string;
  readonly driver: InMemorySystemd;
  readonly agent: Agent;
}

export async function startMachine(
  ns: Namespace,
  id: string,
  metadata: Record<string, string> = {},
): Promise<Machine> {
  const root = await mkdtemp(join(tmpdir(), 'fleet-ts-cron-'));
  const driver = new InMemorySystemd({ systemdDir: join(root, 'system') });
  const log = quietLog('agent');
  const agent = startAgent({
    machineID: id,
    publicIP: '127.0.0.1',
    metadata,
    store: new EtcdAgentStore({ etcd: ns, machineID: id, ttlMs: 15_000, log }),
    driver,
    files: new UnitFileStore({ unitsDir: join(root, 'units'), systemdDir: join(root, 'system') }),
    ttlMs: 15_000,
    log,
    pollIntervalMs: 100,
    debounceMs: 5,
    runs: createRunReporter(ns),
  });
  await agent.ready;
  cleanups.push(async () => {
    await agent.stop({ purge: false });
    await rm(root, { recursive: true, force: true });
  });
  return { id, driver, agent };
}

export interface EngineNode {
  readonly leader: LeaderElection;
  readonly engine: Engine;
  readonly cron: Cron;
  stop(): Promise<void>;
}

/** The clock cron reads (default the wall clock); a test clock lets a test make time pass at once. */
export function startEngineNode(ns: Namespace, machineID: string, now?: () => number): EngineNode {
  const log = quietLog('engine');
  // A 10 s lease: with 2 s (1 s to prove the lease alive) a loaded machine's event-loop delays deposed
  // the leader again and again, and each new leadership turned the ticks in between into missed ones.
  // Failover in these tests is a resignation (stop), which does not wait for the lease.
  const leader = createLeaderElection({ ns, machineID, ttlSeconds: 10, retryIntervalMs: 200, log });
  const engine = startEngine({
    store: createEngineStore(ns, log),
    leader,
    log,
    reconcileIntervalMs: 500,
    machineID,
  });
  const cron = startCron({ ns, leader, log, pollIntervalMs: 100, graceMs: 1000, ...(now ? { now } : {}) });
  leader.start();
  let stopped = false;
  const node = {
    leader,
    engine,
    cron,
    async stop() {
      if (stopped) return;
      stopped = true;
      await cron.stop();
      await engine.stop();
      await leader.stop();
    },
  };
  cleanups.push(() => node.stop());
  return node;
}

export const oneshotText = (xfleet: string[]): string =>
  serviceText(xfleet, 'Type=oneshot\nExecStart=/bin/true');

/** Oldest first. */
export async function runs(ns: Namespace, unit: string): Promise<RunRecord[]> {
  return (await listRuns(ns, unit)).reverse();
}

export const totalStarts = (machines: readonly Machine[], unit: string): number =>
  machines.reduce((n, m) => n + (m.driver.oneshotStarts.get(unit) ?? 0), 0);

/** The unit's number of run records once it has not changed for `quietMs`. */
export async function settledRunCount(ns: Namespace, unit: string, quietMs = 2000): Promise<number> {
  let count = -1;
  let since = Date.now();
  return waitFor(
    `${unit}'s run records to stop changing`,
    async () => {
      const n = (await runs(ns, unit)).length;
      if (n !== count) {
        count = n;
        since = Date.now();
        return null;
      }
      return Date.now() - since >= quietMs ? n : null;
    },
    60_000,
    100,
  );
}

/** Consecutive ticks of a `*\/step` seconds schedule: each exactly step s after the previous one. */
export function expectConsecutive(records: readonly RunRecord[], stepMs: number): void {
  for (let i = 1; i < records.length; i++) {
    expect(Date.parse(records[i]!.tick) - Date.parse(records[i - 1]!.tick)).toBe(stepMs);
  }
}
