// Restart generations on the agent, against a real etcd (in-memory systemd): the agent restarts a
// running unit once per new generation and reports it; a fleetd restarted on the same boot restarts
// nothing it re-adopts, yet applies a restart requested while it was down (applied generations kept in
// /run/fleet/restarts.json, agent/restart-file.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3, Namespace } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestartFile } from '../../agent/restart-file.js';
import { InMemorySystemd } from '../../agent/systemd/fake.js';
import { scheduleKey, unitStateKey } from '../../registry/keys.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import {
  connect,
  scheduleUnit,
  startMachine,
  stopMachine,
  type TestMachine,
  tempRoot,
  unitText,
  waitFor,
} from './agent-helpers.js';

let etcd: EtcdServer;
let client: Etcd3;
let ns: Namespace;

beforeAll(async () => {
  etcd = await startEtcd();
  ({ client, ns } = connect(etcd.endpoint));
});

afterAll(async () => {
  client?.close();
  await etcd?.stop();
});

const ID = 'm-restart-gen';
const restartsOf = (d: InMemorySystemd) => d.restarts.get('web.service') ?? 0;
const reported = async () =>
  JSON.parse((await ns.get(unitStateKey(ID, 'web.service')).string()) ?? '{}').restart ?? 0;
const setGeneration = async (hash: string, restart: number) =>
  ns.put(scheduleKey(ID, 'web.service')).value(JSON.stringify({ hash, desiredState: 'launched', restart }));

describe('agent: restart generations', () => {
  it('restarts once per new generation; a restarted fleetd restarts nothing it re-adopts but applies one missed meanwhile', async () => {
    const root = await tempRoot();
    const runDir = await mkdtemp(join(tmpdir(), 'fleet-ts-run-'));
    const memory = () => new RestartFile(join(runDir, 'restarts.json'), 'boot-1');
    const driver = new InMemorySystemd({ systemdDir: join(root, 'system') });
    let m: TestMachine | undefined;
    try {
      const hash = await scheduleUnit(ns, ID, 'web.service', unitText('web'), 'launched');
      m = await startMachine(ns, ID, { root, driver, restartMemory: memory() });
      await waitFor('web running', () => driver.isRunning('web.service'));
      expect(restartsOf(driver)).toBe(0);

      await setGeneration(hash, 1);
      await waitFor('restart 1 reported', async () => (await reported()) === 1);
      expect(restartsOf(driver)).toBe(1);
      await setGeneration(hash, 2);
      await waitFor('restart 2 reported', async () => (await reported()) === 2);
      expect(restartsOf(driver)).toBe(2);

      // fleetd restarted (SIGHUP-like stop, units keep running): nothing restarted on re-adoption.
      await m.agent.stop({ purge: false });
      m = await startMachine(ns, ID, { root, driver, restartMemory: memory() });
      await m.agent.reconcileNow();
      expect(restartsOf(driver)).toBe(2);

      // A restart requested while fleetd is down is applied when it comes back.
      await m.agent.stop({ purge: false });
      await setGeneration(hash, 3);
      m = await startMachine(ns, ID, { root, driver, restartMemory: memory() });
      await waitFor('restart 3 reported', async () => (await reported()) === 3);
      expect(restartsOf(driver)).toBe(3);
      expect(driver.isRunning('web.service')).toBe(true);

      // Another boot: the saved generations are not trusted (every unit was started afresh).
      expect(new RestartFile(join(runDir, 'restarts.json'), 'boot-2').load()).toEqual(new Map());
    } finally {
      await stopMachine(m, true);
      await rm(runDir, { recursive: true, force: true });
    }
  });
});
