// Issue 13 with a real etcd, a real engine and two agents (in-memory systemd), each reaching etcd
// through its own TCP proxy so that one of them, or all of them, can be cut off:
//  - a StopOnDisconnect unit whose stop takes longer than the fence margin never runs on two machines
//    while its machine is cut off and the engine moves it (sampled every 20 ms);
//  - ordinary units of the cut-off machine keep running and are not restarted when it returns;
//  - a cluster-wide partition (every fleetd cut off, leases expire, the leader is deposed) moves
//    nothing: the re-elected leader waits one agent_ttl for the machines to register again.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3, Namespace } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fenceMarginMs } from '../../agent/fence.js';
import { type Engine, startEngine } from '../../engine/engine.js';
import { createLeaderElection, type LeaderElection } from '../../engine/leader.js';
import { createEngineStore } from '../../registry/engine-store.js';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import { connOpts, quietLog, unitSpec } from '../support/campaign-fixtures.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { connect, startMachine, stopMachine, type TestMachine, waitFor } from './agent-helpers.js';

const TTL_MS = 5000;
const STOP_MS = 4000; // longer than the fence margin (2 s at this TTL)
let etcd: EtcdServer;
let reg: EtcdRegistry;
const proxies: Record<'a' | 'b' | 'e', TcpProxy> = {} as never;
const clients: Etcd3[] = [];
let a: TestMachine | undefined;
let b: TestMachine | undefined;
let leader: LeaderElection;
let engine: Engine;

function via(p: TcpProxy): Namespace {
  const c = connect(p.endpoint);
  clients.push(c.client);
  return c.ns;
}

const SINGLE = [
  '[Service]',
  'ExecStart=/bin/sleep 100000',
  `TimeoutStopSec=${(STOP_MS + 2000) / 1000}`,
  '',
  '[X-Fleet]',
  'StopOnDisconnect=true',
  '',
].join('\n');
const pinned = (name: string) =>
  `[Service]\nExecStart=/bin/sleep 100000\n\n[X-Fleet]\nMachineMetadata=name=${name}\n`;

/** unit -> machines it is scheduled on, from the registry. */
async function placements(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const p of await reg.listSchedule()) out[p.unit] = [...(out[p.unit] ?? []), p.machineID];
  for (const v of Object.values(out)) v.sort();
  return out;
}

beforeAll(async () => {
  etcd = await startEtcd();
  reg = openEtcdRegistry(connOpts(etcd.endpoint, '/fleet-ts-test/'));
  for (const k of ['a', 'b', 'e'] as const) proxies[k] = await startTcpProxy(etcd.endpoint);
  const ens = via(proxies.e);
  const log = quietLog('engine');
  leader = createLeaderElection({ ns: ens, machineID: 'engine', ttlSeconds: 3, log, retryIntervalMs: 300 });
  engine = startEngine({
    store: createEngineStore(ens, log),
    leader,
    log,
    reconcileIntervalMs: 500,
    machineID: 'engine',
    agentTtlMs: TTL_MS,
  });
  leader.start();
  a = await startMachine(via(proxies.a), 'a', { ttlMs: TTL_MS, metadata: { name: 'a' } });
  a.driver.slowStop('single.service', STOP_MS);
}, 30_000);

afterAll(async () => {
  for (const p of Object.values(proxies)) p?.heal();
  await engine?.stop();
  await leader?.stop();
  await stopMachine(a, true);
  await stopMachine(b, true);
  for (const c of clients) c.close();
  await reg?.close();
  for (const p of Object.values(proxies)) await p?.close();
  await etcd?.stop();
});

describe('availability with a real engine', () => {
  it('a StopOnDisconnect unit moves off a cut-off machine without ever running twice; ordinary units stay', async () => {
    expect(STOP_MS).toBeGreaterThan(fenceMarginMs(TTL_MS));
    await reg.createUnit(unitSpec('single.service', SINGLE));
    await reg.createUnit(unitSpec('plain-a.service', pinned('a')));
    const ma = a as TestMachine;
    await waitFor(
      'both running on a',
      () => ma.driver.isRunning('single.service') && ma.driver.isRunning('plain-a.service'),
      20_000,
    );
    b = await startMachine(via(proxies.b), 'b', { ttlMs: TTL_MS, metadata: { name: 'b' } });
    b.driver.slowStop('single.service', STOP_MS);
    const mb = b;
    ma.driver.clearCalls();

    let both = 0;
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples++;
        if (ma.driver.isAlive('single.service') && mb.driver.isAlive('single.service')) both++;
        await sleep(20);
      }
    })();
    proxies.a.cut();
    try {
      await waitFor('single.service running on b', () => mb.driver.isRunning('single.service'), 60_000);
      await sleep(1000);
    } finally {
      sampling = false;
      await sampler;
    }
    expect(both).toBe(0);
    expect(samples).toBeGreaterThan(50);
    expect(ma.driver.isAlive('single.service')).toBe(false);
    expect(ma.driver.isRunning('plain-a.service')).toBe(true);

    proxies.a.heal();
    await waitFor(
      'a registered again',
      async () => (await reg.listMachines()).some((m) => m.id === 'a'),
      30_000,
    );
    await sleep(TTL_MS);
    expect(await placements()).toEqual({ 'plain-a.service': ['a'], 'single.service': ['b'] });
    expect(ma.driver.isAlive('single.service')).toBe(false);
    expect(ma.driver.callLog().filter((c) => c.includes('plain-a.service'))).toEqual([]);
  }, 120_000);

  it('a cluster-wide partition longer than agent_ttl moves nothing and restarts nothing', async () => {
    const ma = a as TestMachine;
    const mb = b as TestMachine;
    await reg.createUnit(unitSpec('plain-b.service', pinned('b')));
    await reg.createUnit(unitSpec('free.service', '[Service]\nExecStart=/bin/sleep 100000\n'));
    await waitFor(
      'plain-b and free running',
      () =>
        mb.driver.isRunning('plain-b.service') &&
        (ma.driver.isRunning('free.service') || mb.driver.isRunning('free.service')),
      20_000,
    );
    const before = await placements();
    ma.driver.clearCalls();
    mb.driver.clearCalls();

    for (const p of Object.values(proxies)) p.cut();
    await waitFor('leases expired', async () => (await reg.listMachines()).length === 0, 30_000);
    await waitFor('leader deposed', async () => !leader.isLeader(), 30_000);
    await sleep(TTL_MS);
    // Heal the engine first: without the grace window it would find no machine and then move units to
    // whichever machine registered first.
    proxies.e.heal();
    await waitFor('leader again', async () => leader.isLeader(), 30_000);
    await sleep(300);
    proxies.b.heal();
    proxies.a.heal();
    await waitFor('both registered', async () => (await reg.listMachines()).length === 2, 30_000);
    await sleep(TTL_MS * 2);
    expect(await placements()).toEqual(before);
    // Ordinary units untouched; the StopOnDisconnect unit was stopped and started again on b (its opt-in).
    const touched = (m: TestMachine) =>
      m.driver.callLog().filter((c) => /^(stop|start|restart|kill)/.test(c) && !c.includes('single.service'));
    expect(touched(ma)).toEqual([]);
    expect(touched(mb)).toEqual([]);
    expect(mb.driver.isRunning('single.service')).toBe(true);
  }, 120_000);
});
