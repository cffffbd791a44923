// Self-fencing against a real etcd that is paused (SIGSTOP): a short outage must not stop anything; a
// long one must stop the machine's units before its lease (agent_ttl) could expire and the engine
// could run them elsewhere.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3, Namespace } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fenceThresholdMs } from '../../agent/fence.js';
import { machineObjectKey } from '../../units/registry/keys.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import {
  connect,
  scheduleUnit,
  startMachine,
  stopMachine,
  type TestMachine,
  unitText,
  waitFor,
} from './agent-helpers.js';

const TTL_MS = 8000;
let etcd: EtcdServer;
let client: Etcd3;
let ns: Namespace;
let m: TestMachine | undefined;

beforeAll(async () => {
  etcd = await startEtcd();
  ({ client, ns } = connect(etcd.endpoint));
  m = await startMachine(ns, 'm-fence', { ttlMs: TTL_MS });
  await scheduleUnit(ns, 'm-fence', 'app.service', unitText('app'), 'launched');
  await waitFor('app running', () => m?.driver.isRunning('app.service'));
}, 180_000);

afterAll(async () => {
  etcd?.resume();
  await stopMachine(m, true);
  client?.close();
  await etcd?.stop();
});

describe('self-fencing', () => {
  it('etcd paused for less than the fencing deadline: nothing is stopped', async () => {
    const machine = m as TestMachine;
    machine.driver.clearCalls();
    etcd.pause();
    try {
      await sleep(2500);
    } finally {
      etcd.resume();
    }
    await sleep(3000); // several keepalives and state polls later
    expect(machine.agent.isFenced()).toBe(false);
    expect(machine.driver.callLog().filter((c) => c.startsWith('stopUnit'))).toEqual([]);
    expect(machine.driver.isRunning('app.service')).toBe(true);
  }, 180_000);

  it('etcd paused longer: units are stopped before the lease could expire, and resumed afterwards', async () => {
    const machine = m as TestMachine;
    machine.driver.clearCalls();
    const pausedAt = Date.now();
    etcd.pause();
    let fencedAt = 0;
    let lastKeepalive = 0;
    try {
      await waitFor('fenced', () => !machine.driver.isRunning('app.service'), 60_000);
      fencedAt = Date.now();
      lastKeepalive = machine.store.lastKeepaliveAt();
      expect(machine.agent.isFenced()).toBe(true);
      // Keep etcd away past the lease TTL: nothing may start the unit again meanwhile.
      await sleep(Math.max(0, pausedAt + TTL_MS + 1000 - Date.now()));
      expect(machine.driver.isRunning('app.service')).toBe(false);
    } finally {
      etcd.resume();
    }
    // Fenced after the threshold, strictly before the lease (renewed at lastKeepalive at the latest) ends.
    expect(fencedAt - lastKeepalive).toBeGreaterThanOrEqual(fenceThresholdMs(TTL_MS));
    expect(fencedAt - lastKeepalive).toBeLessThan(TTL_MS);
    expect(machine.driver.callLog()).toEqual(['stopUnit app.service']);

    // etcd is back: the machine is announced again and its (still scheduled) unit runs again.
    await waitFor('running again', () => machine.driver.isRunning('app.service'), 60_000);
    await waitFor('announced', async () => (await ns.get(machineObjectKey('m-fence')).string()) !== null);
    expect(machine.agent.isFenced()).toBe(false);
  }, 180_000);
});
