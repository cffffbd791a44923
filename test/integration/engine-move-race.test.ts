// The engine decides to move a unit off a machine that went away, and the machine re-registers at that
// very moment, between the plan and its commit. The move must not commit: its transaction checks the
// machine is still absent, fails as stale, and the engine re-plans with the machine back — the unit stays
// where it runs and is never placed on a second machine (real etcd, real engine, simulated machines).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../../engine/engine.js';
import { createLeaderElection } from '../../engine/leader.js';
import type { EngineStore } from '../../engine/store.js';
import { createEngineStore } from '../../registry/engine-store.js';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import {
  announceMachine,
  connect,
  connOpts,
  type FakeMachine,
  quietLog,
  serviceText,
  sleep,
  unitSpec,
  waitFor,
} from '../support/campaign-fixtures.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';

let etcd: EtcdServer;
let reg: EtcdRegistry;

beforeAll(async () => {
  etcd = await startEtcd();
  reg = openEtcdRegistry(connOpts(etcd.endpoint));
});

afterAll(async () => {
  await reg?.close();
  await etcd?.stop();
});

describe('engine: a machine re-registering while its unit is being moved away', () => {
  it('keeps the unit on that machine; no placement on another machine ever commits', async () => {
    const { client, ns } = connect(etcd.endpoint);
    const log = quietLog('engine');
    const machines: FakeMachine[] = [];
    machines.push(await announceMachine(ns, 'm1', {}, 2));
    machines.push(await announceMachine(ns, 'm2', {}, 30));
    await reg.createUnit(unitSpec('a.service', serviceText()));
    await ns
      .put('schedule/m1/a.service')
      .value(JSON.stringify({ hash: (await reg.getUnit('a.service'))?.hash, desiredState: 'launched' }));

    // Every commit the engine makes, and the hook that brings m1 back just before the move commits.
    const store = createEngineStore(ns, log);
    const committed: string[] = [];
    let returned = false;
    const racing: EngineStore = {
      loadSnapshot: () => store.loadSnapshot(),
      watch: (rev, h) => store.watch(rev, h),
      applyChanges: async (changes, guard, opts) => {
        if (!returned && changes.some((c) => c.kind === 'delete' && c.machineID === 'm1')) {
          returned = true;
          machines.push(await announceMachine(ns, 'm1', {}, 30));
        }
        const rev = await store.applyChanges(changes, guard, opts);
        for (const c of changes) committed.push(`${c.kind} ${c.machineID} ${c.unit}`);
        return rev;
      },
    };
    const leader = createLeaderElection({
      ns,
      machineID: 'engine-1',
      ttlSeconds: 10,
      log,
      retryIntervalMs: 300,
    });
    const engine = startEngine({
      store: racing,
      leader,
      log,
      reconcileIntervalMs: 300,
      machineID: 'engine-1',
      agentTtlMs: 500,
    });
    leader.start();
    try {
      machines[0]?.crash(); // m1's lease (2 s) expires: the engine sees it go away
      await waitFor('m1 gone', async () => !(await reg.listMachines()).some((m) => m.id === 'm1'), 10_000);
      await waitFor('the engine tried to move a.service off m1', async () => returned, 20_000);
      // Give the engine several passes to (wrongly) place it elsewhere.
      await sleep(2000);
      expect(committed).toEqual([]);
      expect(await reg.listSchedule()).toEqual([{ unit: 'a.service', machineID: 'm1' }]);
    } finally {
      await engine.stop();
      await leader.stop();
      for (const m of machines) m.crash();
      client.close();
    }
  });
});
