// Shared fixtures of the agent integration tests: a real etcd, temp unit dirs, the in-memory systemd.

import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3, Namespace } from 'etcd3';
import { type Agent, startAgent } from '../../agent/agent.js';
import type { RestartMemory } from '../../agent/restart.js';
import { InMemorySystemd } from '../../agent/systemd/fake.js';
import { UnitFileStore } from '../../agent/unit-files.js';
import { EtcdAgentStore } from '../../registry/agent-store.js';
import { createEtcdClient } from '../../registry/client.js';
import { scheduleKey, unitContentKey } from '../../registry/keys.js';
import { createLogger } from '../../units/log.js';

export const PREFIX = '/fleet-ts-test/';

export function connect(endpoint: string): { client: Etcd3; ns: Namespace } {
  const client = createEtcdClient({ endpoints: [endpoint], keyPrefix: PREFIX, requestTimeoutMs: 1000 });
  return { client, ns: client.namespace(PREFIX) };
}

export const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');

export const unitText = (body: string, install = false): string =>
  `[Unit]\nDescription=${body}\n\n[Service]\nExecStart=/bin/sleep 1000\n${install ? '\n[Install]\nWantedBy=multi-user.target\n' : ''}`;

/** Writes what the engine would: the contents under unit/<hash> and the schedule record. */
export async function scheduleUnit(
  ns: Namespace,
  machineID: string,
  unit: string,
  text: string,
  desiredState: 'loaded' | 'launched',
): Promise<string> {
  const hash = sha1(text);
  await ns.put(unitContentKey(hash)).value(text);
  await ns.put(scheduleKey(machineID, unit)).value(JSON.stringify({ hash, desiredState }));
  return hash;
}

export async function waitFor<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 60_000): Promise<T> {
  const start = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(25);
  }
}

export interface TestMachine {
  readonly id: string;
  readonly agent: Agent;
  readonly driver: InMemorySystemd;
  readonly files: UnitFileStore;
  readonly store: EtcdAgentStore;
  readonly root: string;
}

export async function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'fleet-ts-agent-'));
}

export async function startMachine(
  ns: Namespace,
  id: string,
  opts: {
    ttlMs?: number;
    root?: string;
    driver?: InMemorySystemd;
    metadata?: Record<string, string>;
    /** State poll and safety-net reconcile intervals (defaults: 200 ms and the agent's 5 s). */
    pollIntervalMs?: number;
    reconcileIntervalMs?: number;
    /** Applied restart generations across agent restarts (agent/restart-file.ts). */
    restartMemory?: RestartMemory;
  } = {},
): Promise<TestMachine> {
  const root = opts.root ?? (await tempRoot());
  const files = new UnitFileStore({ unitsDir: join(root, 'units'), systemdDir: join(root, 'system') });
  const driver = opts.driver ?? new InMemorySystemd({ systemdDir: join(root, 'system') });
  const ttlMs = opts.ttlMs ?? 10_000;
  const log = createLogger('agent-test');
  const store = new EtcdAgentStore({ etcd: ns, machineID: id, ttlMs, log });
  const agent = startAgent({
    machineID: id,
    publicIP: '127.0.0.1',
    metadata: opts.metadata ?? { role: 'test' },
    store,
    driver,
    files,
    ttlMs,
    log,
    version: 'test',
    pollIntervalMs: opts.pollIntervalMs ?? 200,
    ...(opts.reconcileIntervalMs !== undefined ? { reconcileIntervalMs: opts.reconcileIntervalMs } : {}),
    ...(opts.restartMemory ? { restartMemory: opts.restartMemory } : {}),
  });
  await agent.ready;
  return { id, agent, driver, files, store, root };
}

export async function stopMachine(m: TestMachine | undefined, purge = false): Promise<void> {
  if (!m) return;
  await m.agent.stop({ purge }).catch(() => undefined);
  await rm(m.root, { recursive: true, force: true });
}
