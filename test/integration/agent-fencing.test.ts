// An agent cut off from etcd (a TCP proxy between it and a real etcd drops everything, as a partition
// would) while the test still reaches etcd. Issue 13: ordinary and global units keep running however
// long the outage lasts, and reconnecting restarts nothing; a unit moved away meanwhile is stopped at
// once; only StopOnDisconnect units are stopped, before the machine's lease expires.
// (Replaces the old self-fencing test, which asserted that every unit was stopped.)
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3, Namespace } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { machineObjectKey, scheduleKey } from '../../registry/keys.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import {
  connect,
  scheduleUnit,
  startMachine,
  stopMachine,
  type TestMachine,
  unitText,
  waitFor,
} from './agent-helpers.js';

const TTL_MS = 3000;
const ID = 'm-cut';
let etcd: EtcdServer;
let proxy: TcpProxy;
let direct: { client: Etcd3; ns: Namespace };
let viaProxy: { client: Etcd3; ns: Namespace };
let m: TestMachine | undefined;

const sodText = (body: string, stopTimeout = '5s') =>
  `[Unit]\nDescription=${body}\n\n[Service]\nExecStart=/bin/sleep 1000\nTimeoutStopSec=${stopTimeout}\n\n[X-Fleet]\nStopOnDisconnect=true\n`;

const machineKeyPresent = async () => (await direct.ns.get(machineObjectKey(ID)).string()) !== null;
const unitCalls = (unit: string) => m?.driver.callLog().filter((c) => c.split(' ').includes(unit)) ?? [];

beforeAll(async () => {
  etcd = await startEtcd();
  proxy = await startTcpProxy(etcd.endpoint);
  direct = connect(etcd.endpoint);
  viaProxy = connect(proxy.endpoint);
  m = await startMachine(viaProxy.ns, ID, { ttlMs: TTL_MS });
}, 30_000);

afterEach(() => proxy.heal());

afterAll(async () => {
  proxy?.heal();
  await stopMachine(m, true);
  viaProxy?.client.close();
  direct?.client.close();
  await proxy?.close();
  await etcd?.stop();
});

describe('agent cut off from etcd', () => {
  it('keeps ordinary and global units running through an outage of several agent_ttl, and restarts nothing on reconnect', async () => {
    const machine = m as TestMachine;
    await scheduleUnit(direct.ns, ID, 'app.service', unitText('app'), 'launched');
    await direct.ns.put(scheduleKey(ID, 'everywhere.service')).value(
      JSON.stringify({
        hash: await scheduleUnit(direct.ns, 'other', 'everywhere.service', unitText('global'), 'launched'),
        desiredState: 'launched',
        global: true,
      }),
    );
    await direct.ns.delete().key(scheduleKey('other', 'everywhere.service'));
    await waitFor('both running', () =>
      ['app.service', 'everywhere.service'].every((u) => machine.driver.isRunning(u)),
    );
    machine.driver.clearCalls();

    proxy.cut();
    // The lease expires in etcd (nobody renews it) ...
    await waitFor('lease expired in etcd', async () => !(await machineKeyPresent()), TTL_MS * 5);
    // ... and the agent still keeps its units running, for two more TTLs.
    await sleep(TTL_MS * 2);
    expect(machine.driver.running()).toEqual(['app.service', 'everywhere.service']);
    expect(machine.agent.isFenced()).toBe(true);

    proxy.heal();
    await waitFor('registered again', machineKeyPresent, TTL_MS * 10);
    await waitFor('reconnected', () => !machine.agent.isFenced(), TTL_MS * 10);
    await machine.agent.reconcileNow();
    expect(machine.driver.running()).toEqual(['app.service', 'everywhere.service']);
    expect(machine.driver.callLog().filter((c) => /^(stop|start|restart|kill)/.test(c))).toEqual([]);
  }, 60_000);

  it('on reconnect stops at once a unit the engine moved away meanwhile, and leaves the others alone', async () => {
    const machine = m as TestMachine;
    await scheduleUnit(direct.ns, ID, 'moved.service', unitText('moved'), 'launched');
    await waitFor('moved running', () => machine.driver.isRunning('moved.service'));
    machine.driver.clearCalls();

    proxy.cut();
    await waitFor('lease expired in etcd', async () => !(await machineKeyPresent()), TTL_MS * 5);
    // What the engine does when a machine is lost: its placement goes elsewhere.
    await direct.ns.delete().key(scheduleKey(ID, 'moved.service'));
    await sleep(TTL_MS);
    expect(machine.driver.isRunning('moved.service')).toBe(true);

    proxy.heal();
    await waitFor('moved.service stopped', () => !machine.driver.isRunning('moved.service'), TTL_MS * 10);
    expect(machine.driver.running()).toEqual(['app.service', 'everywhere.service']);
    expect(unitCalls('app.service')).toEqual([]);
    expect(unitCalls('everywhere.service')).toEqual([]);
  }, 60_000);

  it('stops a StopOnDisconnect unit before the lease expires, leaves ordinary ones running, starts it again after', async () => {
    const machine = m as TestMachine;
    await scheduleUnit(direct.ns, ID, 'single.service', sodText('single'), 'launched');
    await waitFor('single running', () => machine.driver.isRunning('single.service'));
    machine.driver.clearCalls();

    // Order of events, not timing: the unit is down while etcd still holds the machine's lease.
    proxy.cut();
    await waitFor('single stopped', () => !machine.driver.isAlive('single.service'), TTL_MS * 5);
    expect(await machineKeyPresent()).toBe(true);
    expect(machine.driver.running()).toEqual(['app.service', 'everywhere.service']);
    await waitFor('lease expired in etcd', async () => !(await machineKeyPresent()), TTL_MS * 5);
    expect(machine.driver.isAlive('single.service')).toBe(false);

    proxy.heal();
    await waitFor('single running again', () => machine.driver.isRunning('single.service'), TTL_MS * 10);
    expect(unitCalls('app.service')).toEqual([]);
  }, 60_000);
});
