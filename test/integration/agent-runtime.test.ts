import { lstat, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Etcd3, Namespace } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { InMemorySystemd } from '../../agent/systemd/fake.js';
import { EtcdAgentStore } from '../../registry/agent-store.js';
import { machineObjectKey, scheduleKey, unitStateKey } from '../../registry/keys.js';
import type { ScheduleRecord } from '../../units/types.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import {
  connect,
  scheduleUnit,
  sha1,
  startMachine,
  stopMachine,
  type TestMachine,
  tempRoot,
  unitText,
  waitFor,
} from './agent-helpers.js';

/** The in-memory systemd, but a started unit reads as activating/start for its first `ms`. */
class SlowStartSystemd extends InMemorySystemd {
  private readonly startedAt = new Map<string, number>();
  constructor(private readonly ms: number) {
    super();
  }
  override async startUnit(name: string): Promise<void> {
    this.startedAt.set(name, Date.now());
    await super.startUnit(name);
  }
  override async startUnits(names: readonly string[]): Promise<void> {
    for (const n of names) this.startedAt.set(n, Date.now());
    await super.startUnits(names);
  }
  override async unitStates(names: readonly string[]) {
    const out = await super.unitStates(names);
    for (const [n, s] of out) {
      if (s.active === 'active' && Date.now() - (this.startedAt.get(n) ?? 0) < this.ms)
        out.set(n, { load: s.load, active: 'activating', sub: 'start' });
    }
    return out;
  }
}

let etcd: EtcdServer;
let client: Etcd3;
let ns: Namespace;
const machines: TestMachine[] = [];

const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );
const stateOf = async (id: string, unit: string) => {
  const v = await ns.get(unitStateKey(id, unit)).string();
  return v === null ? null : (JSON.parse(v) as Record<string, string>);
};
const start = async (id: string, opts: Parameters<typeof startMachine>[2] = {}) => {
  const m = await startMachine(ns, id, opts);
  machines.push(m);
  return m;
};

beforeAll(async () => {
  etcd = await startEtcd();
  ({ client, ns } = connect(etcd.endpoint));
}, 180_000);

afterEach(async () => {
  for (const m of machines.splice(0)) await stopMachine(m, true);
  await ns.delete().all();
});

afterAll(async () => {
  client?.close();
  await etcd?.stop();
});

describe('agent against a real etcd', () => {
  it('announces its machine under a lease', async () => {
    await start('m-announce', { metadata: { region: 'eu' } });
    const obj = JSON.parse((await ns.get(machineObjectKey('m-announce')).string()) ?? 'null');
    expect(obj).toEqual({
      id: 'm-announce',
      publicIP: '127.0.0.1',
      metadata: { region: 'eu' },
      version: 'test',
      disableEngine: false,
    });
    const kv = await ns.get(machineObjectKey('m-announce')).exec();
    expect(kv.kvs[0]?.lease).not.toBe('0');
  });

  it('writes, links and starts a scheduled unit and publishes its state; stop and delete follow', async () => {
    const m = await start('m1');
    const text = unitText('hello');
    const hash = await scheduleUnit(ns, 'm1', 'hello.service', text, 'launched');
    const file = join(m.root, 'units/hello.service');
    const link = join(m.root, 'system/hello.service');

    await waitFor('unit running', () => m.driver.isRunning('hello.service'));
    expect(await readFile(file, 'utf8')).toBe(text);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(m.driver.callLog()).toEqual(['daemonReload', 'startUnit hello.service']);
    expect(
      await waitFor('launched state', async () => {
        const s = await stateOf('m1', 'hello.service');
        return s?.active === 'active' ? s : null;
      }),
    ).toEqual({ hash, load: 'loaded', active: 'active', sub: 'running', agentState: 'launched' });

    // desired loaded: stopped, file kept
    await ns.put(scheduleKey('m1', 'hello.service')).value(JSON.stringify({ hash, desiredState: 'loaded' }));
    await waitFor('unit stopped', () => !m.driver.isRunning('hello.service'));
    expect(
      await waitFor('loaded state', async () => {
        const s = await stateOf('m1', 'hello.service');
        return s?.agentState === 'loaded' ? s : null;
      }),
    ).toEqual({ hash, load: 'loaded', active: 'inactive', sub: 'dead', agentState: 'loaded' });
    expect(await exists(file)).toBe(true);

    // unscheduled: removed from disk, systemd and etcd
    await ns.delete().key(scheduleKey('m1', 'hello.service'));
    await waitFor('file removed', async () => !(await exists(file)));
    expect(await exists(link)).toBe(false);
    await waitFor('state deleted', async () => (await stateOf('m1', 'hello.service')) === null);
    // No `disable`: the unit has no [Install] section, so it was never enabled.
    expect(m.driver.callLog().slice(-3)).toEqual([
      'stopUnit hello.service',
      'resetFailed hello.service',
      'daemonReload',
    ]);
  });

  it('a changed hash reloads the unit with the new contents', async () => {
    const m = await start('m-hash');
    await scheduleUnit(ns, 'm-hash', 'web.service', unitText('v1'), 'launched');
    await waitFor('v1 running', () => m.driver.isRunning('web.service'));
    const v2 = unitText('v2');
    const h2 = await scheduleUnit(ns, 'm-hash', 'web.service', v2, 'launched');
    await waitFor(
      'v2 on disk',
      async () => (await readFile(join(m.root, 'units/web.service'), 'utf8')) === v2,
    );
    await waitFor('v2 state', async () => (await stateOf('m-hash', 'web.service'))?.hash === h2);
    expect(m.driver.isRunning('web.service')).toBe(true);
  });

  it('enables units with an [Install] section after linking', async () => {
    const m = await start('m-install');
    await scheduleUnit(ns, 'm-install', 'inst.service', unitText('i', true), 'launched');
    await waitFor('running', () => m.driver.isRunning('inst.service'));
    expect(m.driver.callLog()).toEqual(['enableUnit inst.service', 'daemonReload', 'startUnit inst.service']);
  });

  it('reports a unit that is still activating right after its start as active soon after, without waiting for the poll', async () => {
    // Units stay "activating" for 150 ms after their start, as a real service does for a moment.
    const driver = new SlowStartSystemd(150);
    const hour = 3_600_000;
    await start('m-slow', { driver, pollIntervalMs: hour, reconcileIntervalMs: hour });
    const names = ['s1.service', 's2.service', 's3.service'];
    for (const n of names) await scheduleUnit(ns, 'm-slow', n, unitText(n), 'launched');
    for (const n of names) {
      expect(
        await waitFor(`${n} reported active`, async () => {
          const s = await stateOf('m-slow', n);
          return s?.active === 'active' ? s : null;
        }),
      ).toMatchObject({ active: 'active', sub: 'running', agentState: 'launched' });
    }
  });

  it('publishes a unit that fails at start as failed (state read after start)', async () => {
    const driver = new InMemorySystemd();
    driver.failUnit('bad.service');
    await start('m-fail', { driver });
    await scheduleUnit(ns, 'm-fail', 'bad.service', unitText('bad'), 'launched');
    const s = await waitFor('failed state', async () => {
      const st = await stateOf('m-fail', 'bad.service');
      return st?.active === 'failed' ? st : null;
    });
    expect(s).toMatchObject({ load: 'loaded', active: 'failed', sub: 'failed', agentState: 'launched' });
  });

  it('refuses hostile unit names from the registry and keeps working', async () => {
    const m = await start('m-evil');
    const before = await tempRoot(); // a sibling dir that must stay empty
    onTestFinished(() => rm(before, { recursive: true, force: true }));
    for (const name of ['../evil.service', 'a/b.service', '../../../tmp/x.service']) {
      await scheduleUnit(ns, 'm-evil', name, unitText('evil'), 'launched');
    }
    await scheduleUnit(ns, 'm-evil', 'good.service', unitText('good'), 'launched');
    await waitFor('good running', () => m.driver.isRunning('good.service'));
    await m.agent.reconcileNow();
    expect(m.driver.running()).toEqual(['good.service']);
    expect(m.driver.callLog().filter((c) => c.includes('evil') || c.includes('/'))).toEqual([]);
    expect(await exists(join(m.root, 'evil.service'))).toBe(false);
    expect(await exists(join(m.root, 'units/a'))).toBe(false);
    expect(await exists(join(before, 'x.service'))).toBe(false);
  });

  it('leaves a lost lease behind: re-announces and republishes states', async () => {
    const m = await start('m-lease');
    await scheduleUnit(ns, 'm-lease', 'keep.service', unitText('keep'), 'launched');
    await waitFor('state', async () => (await stateOf('m-lease', 'keep.service'))?.active === 'active');
    const lease = (await ns.get(machineObjectKey('m-lease')).exec()).kvs[0]?.lease;
    expect(lease).toBeDefined();
    await client.leaseClient.leaseRevoke({ ID: lease as string });
    expect(await ns.get(machineObjectKey('m-lease')).string()).toBeNull();
    await waitFor('re-announced', async () => (await ns.get(machineObjectKey('m-lease')).string()) !== null);
    await waitFor(
      'state republished',
      async () => (await stateOf('m-lease', 'keep.service'))?.active === 'active',
    );
    expect((await ns.get(machineObjectKey('m-lease')).exec()).kvs[0]?.lease).not.toBe(lease);
    expect(m.driver.callLog().filter((c) => c.startsWith('stopUnit'))).toEqual([]);
  });
});

describe('schedule isolation', () => {
  it('an agent never sees another machine’s schedule events', async () => {
    const a = await start('aaaa');
    const b = await start('aaaa-b'); // shares a prefix with aaaa on purpose
    const spyStore = new EtcdAgentStore({ etcd: ns, machineID: 'aaaa-b', ttlMs: 10_000 });
    const seen: string[] = [];
    let calls = 0;
    await spyStore.watchSchedule('aaaa-b', (_s: ReadonlyMap<string, ScheduleRecord>, changed) => {
      calls++;
      seen.push(...changed);
    });
    try {
      for (let i = 0; i < 20; i++)
        await scheduleUnit(ns, 'aaaa', `u${i}.service`, unitText(`u${i}`), 'launched');
      await waitFor('a runs 20 units', () => a.driver.running().length === 20);
      await scheduleUnit(ns, 'aaaa-b', 'mine.service', unitText('mine'), 'launched');
      await waitFor('b runs its unit', () => b.driver.isRunning('mine.service'));
      await waitFor('spy saw mine', () => seen.includes('mine.service'));
      expect(seen).toEqual(['mine.service']);
      expect(calls).toBe(2); // initial (empty) snapshot + its own unit
      expect(b.driver.running()).toEqual(['mine.service']);
      expect(a.driver.running()).not.toContain('mine.service');
    } finally {
      await spyStore.close();
    }
  });
});

describe('startup and shutdown', () => {
  it('restart over a directory with stale units cleans them and re-adopts scheduled ones without stopping them', async () => {
    const root = await tempRoot();
    const driver = new InMemorySystemd();
    const keepText = unitText('keep');
    await scheduleUnit(ns, 'm-restart', 'keep.service', keepText, 'launched');
    await mkdir(join(root, 'units'), { recursive: true });
    await mkdir(join(root, 'system'), { recursive: true });
    await writeFile(join(root, 'units/keep.service'), keepText);
    await writeFile(join(root, 'units/stale.service'), unitText('stale'));
    await symlink(join(root, 'units/keep.service'), join(root, 'system/keep.service'));
    await symlink(join(root, 'units/stale.service'), join(root, 'system/stale.service'));
    await symlink(join(root, 'units/ghost.service'), join(root, 'system/ghost.service'));
    await driver.startUnit('keep.service');
    await driver.startUnit('stale.service');
    driver.clearCalls();

    const m = await start('m-restart', { root, driver });
    expect(await exists(join(root, 'units/stale.service'))).toBe(false);
    expect(await exists(join(root, 'system/stale.service'))).toBe(false);
    expect(await exists(join(root, 'system/ghost.service'))).toBe(false);
    expect(driver.running()).toEqual(['keep.service']);
    expect(driver.callLog()).not.toContain('stopUnit keep.service');
    expect(driver.callLog()).toContain('stopUnit stale.service');
    await waitFor(
      'keep state',
      async () => (await stateOf('m-restart', 'keep.service'))?.agentState === 'launched',
    );
    expect(m.agent.loadedUnits().get('keep.service')).toEqual({ hash: sha1(keepText), state: 'launched' });
  });

  it('stop without purge (SIGHUP) leaves units running; a new agent re-adopts them', async () => {
    const root = await tempRoot();
    const driver = new InMemorySystemd();
    const first = await startMachine(ns, 'm-hup', { root, driver });
    await scheduleUnit(ns, 'm-hup', 'svc.service', unitText('svc'), 'launched');
    await waitFor('running', () => driver.isRunning('svc.service'));
    await first.agent.stop({ purge: false });
    expect(driver.isRunning('svc.service')).toBe(true);
    driver.clearCalls();
    await start('m-hup', { root, driver });
    expect(driver.isRunning('svc.service')).toBe(true);
    expect(driver.callLog().filter((c) => c.startsWith('stopUnit'))).toEqual([]);
    expect(await ns.get(machineObjectKey('m-hup')).string()).not.toBeNull();
  });

  it('stop with purge (SIGTERM) unloads every unit and leaves the cluster at once', async () => {
    const m = await startMachine(ns, 'm-term');
    await scheduleUnit(ns, 'm-term', 'a.service', unitText('a'), 'launched');
    await scheduleUnit(ns, 'm-term', 'b.service', unitText('b'), 'loaded');
    await waitFor('a running', () => m.driver.isRunning('a.service'));
    await waitFor('states', async () => (await stateOf('m-term', 'b.service')) !== null);
    await m.agent.stop({ purge: true });
    expect(m.driver.running()).toEqual([]);
    expect(await m.files.list()).toEqual([]);
    expect(await m.files.listLinks()).toEqual([]);
    expect(await ns.get(machineObjectKey('m-term')).string()).toBeNull();
    expect(await stateOf('m-term', 'a.service')).toBeNull();
    expect(await stateOf('m-term', 'b.service')).toBeNull();
    await stopMachine(m);
  });
});
