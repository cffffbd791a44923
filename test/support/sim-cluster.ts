// A simulated fleet-ts cluster for CLI tests: a real etcd, the real engine (one leader) and real
// agents whose systemd is the in-memory fake (agent/systemd/fake.ts). Machines get fixed IDs and IPs
// (the ones of fleet-1.0-observed.md) so golden files are stable. stop() tears everything down,
// including etcd and temp dirs, and is safe to call twice.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3, Namespace } from 'etcd3';
import { type Agent, startAgent } from '../../agent/agent.js';
import { InMemorySystemd } from '../../agent/systemd/fake.js';
import { UnitFileStore } from '../../agent/unit-files.js';
import { type Engine, startEngine } from '../../engine/engine.js';
import { createLeaderElection, type LeaderElection } from '../../engine/leader.js';
import { EngineOps } from '../../engine/ops.js';
import { EtcdAgentStore } from '../../registry/agent-store.js';
import { createEtcdClient } from '../../registry/client.js';
import { createEngineStore } from '../../registry/engine-store.js';
import { createLogger } from '../../units/log.js';
import { type EtcdServer, startEtcd } from './etcd.js';

export const SIM_MACHINES = [
  { id: '07d9057b44b34f9aa5b45f8c19c375c6', publicIP: '127.0.0.11', metadata: { idx: '1', name: 'of1' } },
  { id: '21e51b3c543a44839c2a4e0ec9177954', publicIP: '127.0.0.12', metadata: { idx: '2', name: 'of2' } },
  { id: '6b1bc4a7ccda4271a666403edb23fcad', publicIP: '127.0.0.13', metadata: { idx: '3', name: 'of3' } },
] as const;

export const SIM_PREFIX = '/_coreos.com/fleet/';

export interface SimMachine {
  readonly id: string;
  readonly publicIP: string;
  readonly agent: Agent;
  readonly systemd: InMemorySystemd;
  readonly leader: LeaderElection;
  readonly engine: Engine;
}

export interface SimCluster {
  readonly etcd: EtcdServer;
  readonly endpoint: string;
  readonly machines: readonly SimMachine[];
  /** The raw namespaced client, to inspect or tamper with registry keys. */
  readonly ns: Namespace;
  stop(): Promise<void>;
}

export async function startSimCluster(
  opts: { machines?: number; etcd?: EtcdServer } = {},
): Promise<SimCluster> {
  const etcd = opts.etcd ?? (await startEtcd());
  const client: Etcd3 = createEtcdClient({
    endpoints: [etcd.endpoint],
    keyPrefix: SIM_PREFIX,
    requestTimeoutMs: 3000,
  });
  const ns = client.namespace(SIM_PREFIX);
  const roots: string[] = [];
  const machines: SimMachine[] = [];
  const log = createLogger('sim-cluster', { level: process.env.FLEET_LOG_LEVEL ?? 'silent' });
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const m of machines) {
      await m.engine.stop().catch(() => undefined);
      await m.leader.stop().catch(() => undefined);
      await m.agent.stop({ purge: false }).catch(() => undefined);
    }
    client.close();
    for (const r of roots) await rm(r, { recursive: true, force: true });
    if (!opts.etcd) await etcd.stop();
  };

  try {
    for (const def of SIM_MACHINES.slice(0, opts.machines ?? 3)) {
      const root = await mkdtemp(join(tmpdir(), 'fleet-ts-sim-'));
      roots.push(root);
      const files = new UnitFileStore({ unitsDir: join(root, 'units'), systemdDir: join(root, 'system') });
      const systemd = new InMemorySystemd({ systemdDir: join(root, 'system'), record: false });
      const ttlMs = 10_000;
      const store = new EtcdAgentStore({ etcd: ns, machineID: def.id, ttlMs, log });
      const agent = startAgent({
        machineID: def.id,
        publicIP: def.publicIP,
        metadata: def.metadata,
        store,
        driver: systemd,
        files,
        ttlMs,
        log,
        version: 'sim',
        pollIntervalMs: 100,
        debounceMs: 10,
      });
      const leader = createLeaderElection({ ns, machineID: def.id, ttlSeconds: 10, log });
      const engine = startEngine({
        store: createEngineStore(ns, log),
        leader,
        log,
        reconcileIntervalMs: 500,
        machineID: def.id,
        debounceMs: 10,
        ops: new EngineOps({ ns, log, settleTimeoutMs: 10_000 }),
      });
      leader.start();
      machines.push({ id: def.id, publicIP: def.publicIP, agent, systemd, leader, engine });
      await agent.ready;
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { etcd, endpoint: etcd.endpoint, machines, ns, stop };
}
