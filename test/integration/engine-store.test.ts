// The engine's view of etcd: snapshot, resumable watch (etcd restart, compaction), guarded writes.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3, Namespace } from 'etcd3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type EngineStore,
  type ScheduleChange,
  type Snapshot,
  StaleScheduleError,
  type StoreEvent,
  type StoreWatch,
} from '../../engine/store.js';
import { createEngineStore } from '../../registry/engine-store.js';
import { UnitContentCache } from '../../registry/etcd-read.js';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import { NotLeaderError } from '../../registry/types.js';
import {
  announceMachine,
  connect,
  connOpts,
  quietLog,
  serviceText,
  unitSpec,
  waitFor,
} from '../support/campaign-fixtures.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';

let etcd: EtcdServer;
let reg: EtcdRegistry;
let raw: Etcd3;
let ns: Namespace;
let store: EngineStore;

beforeAll(async () => {
  etcd = await startEtcd();
  reg = openEtcdRegistry(connOpts(etcd.endpoint));
  ({ client: raw, ns } = connect(etcd.endpoint));
  store = createEngineStore(ns, quietLog('engine-store'));
});

afterAll(async () => {
  await reg?.close();
  raw?.close();
  await etcd?.stop();
});

beforeEach(async () => {
  await raw.delete().all();
});

const H = (c: string) => c.repeat(40);
const put = (machineID: string, unit: string, hash = H('a')): ScheduleChange => ({
  kind: 'put',
  machineID,
  unit,
  record: { hash, desiredState: 'launched' },
  reason: 'test',
});

async function becomeLeader(id = 'me'): Promise<{ key: string; createRevision: string }> {
  const res = await ns.put('engine/leader').value(id);
  return { key: 'engine/leader', createRevision: res.header.revision };
}

describe('engine store: snapshot', () => {
  it('returns units with parsed requirements, merged machines and the schedule at one revision', async () => {
    const a = unitSpec('a.service', serviceText(['MachineMetadata=region=eu', 'Conflicts=b*']));
    await reg.createUnit(a);
    await announceMachine(ns, 'm1', { region: 'eu' }, 5);
    await reg.setMachineMetadata('m1', 'role', 'db');
    await ns.put('schedule/m1/a.service').value(JSON.stringify({ hash: a.hash, desiredState: 'launched' }));
    const snap = await store.loadSnapshot();
    const u = snap.state.units.get('a.service');
    expect(u?.requirements.metadata).toEqual({ region: ['eu'] });
    expect(u?.requirements.conflicts).toEqual(['b*']);
    expect(snap.state.machines.get('m1')?.metadata).toEqual({ region: 'eu', role: 'db' });
    expect(snap.state.schedule.get('m1')?.get('a.service')?.hash).toBe(a.hash);
    expect(BigInt(snap.revision)).toBeGreaterThan(0n);
  });

  it('skips (never throws on) a unit whose stored contents do not parse or are missing', async () => {
    await reg.createUnit(unitSpec('ok.service', serviceText()));
    await ns.put(`unit/${H('b')}`).value('[Service\nbroken');
    await ns
      .put('job/broken.service')
      .value(JSON.stringify({ name: 'broken.service', hash: H('b'), desiredState: 'launched' }));
    await ns
      .put('job/nocontent.service')
      .value(JSON.stringify({ name: 'nocontent.service', hash: H('c'), desiredState: 'launched' }));
    const snap = await store.loadSnapshot();
    expect([...snap.state.units.keys()]).toEqual(['ok.service']);
  });
});

describe('engine store: watch', () => {
  function collect(snapRevision: string) {
    const events: StoreEvent[] = [];
    const resets: Snapshot[] = [];
    const w = store.watch(snapRevision, {
      onEvents: (ev) => events.push(...ev),
      onReset: (s) => resets.push(s),
    });
    return { events, resets, w };
  }

  it('delivers job, machine and schedule changes, each watched range in order, not state/ ones', async () => {
    const snap = await store.loadSnapshot();
    const { events, w } = collect(snap.revision);
    try {
      const spec = unitSpec('w.service', serviceText(['Global=true']));
      await reg.createUnit(spec);
      const m = await announceMachine(ns, 'm1', { a: '1' }, 5);
      await reg.setMachineMetadata('m1', 'a', '2');
      await ns.put('state/m1/w.service').value('{}');
      await ns
        .put('schedule/m1/w.service')
        .value(JSON.stringify({ hash: spec.hash, desiredState: 'loaded' }));
      await reg.destroyUnit('w.service');
      await m.leave();
      await waitFor('6 events', async () => events.length >= 6);
      await sleep(100);
      // Jobs and machines are one watched range, the schedule another: each arrives in revision order.
      const jobsAndMachines = events.filter((e) => e.kind !== 'schedule');
      expect(jobsAndMachines.map((e) => e.revision)).toEqual(
        [...jobsAndMachines.map((e) => e.revision)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      );
      events.sort((a, b) => (a.revision < b.revision ? -1 : a.revision > b.revision ? 1 : 0));
      expect(events.map((e) => e.kind)).toEqual([
        'unit',
        'machine',
        'machine',
        'schedule',
        'unit',
        'machine',
      ]);
      const [u, m1, m2, s, u2, m3] = events;
      expect(u?.kind === 'unit' && u.unit?.requirements.global).toBe(true);
      expect(m1?.kind === 'machine' && m1.machine?.metadata).toEqual({ a: '1' });
      expect(m2?.kind === 'machine' && m2.machine?.metadata).toEqual({ a: '2' });
      expect(s?.kind === 'schedule' && s.record?.desiredState).toBe('loaded');
      expect(u2?.kind === 'unit' && u2.unit).toBeNull();
      expect(m3?.kind === 'machine' && m3.machine).toBeNull();
    } finally {
      await w.stop();
    }
  });

  it("is not woken by cluster cron's run records (runs/ lies between machines/ and schedule/)", async () => {
    const snap = await store.loadSnapshot();
    let batches = 0;
    const events: StoreEvent[] = [];
    const w = store.watch(snap.revision, {
      onEvents: (ev) => {
        batches++;
        events.push(...ev);
      },
      onReset: () => {},
    });
    const schedule = (unit: string) =>
      ns.put(`schedule/m1/${unit}`).value(JSON.stringify({ hash: H('a'), desiredState: 'launched' }));
    try {
      // First a delivered event: from then on the watch is live and each write is its own response.
      await schedule('a.service');
      await waitFor('the first event', async () => events.length >= 1);
      for (let i = 0; i < 5; i++) {
        await ns.put(`runs/c.service/2030-01-01T00:00:0${i}.000Z`).value('{"status":"scheduled"}');
      }
      await schedule('b.service');
      await waitFor('the second event', async () => events.length >= 2);
      await sleep(100);
      expect(events.map((e) => (e.kind === 'schedule' ? e.unit : e.kind))).toEqual([
        'a.service',
        'b.service',
      ]);
      expect(batches).toBe(2);
    } finally {
      await w.stop();
    }
  });

  it('resumes after an etcd restart without losing or repeating an event', async () => {
    const snap = await store.loadSnapshot();
    const { events, w } = collect(snap.revision);
    const writer = connect(etcd.endpoint);
    try {
      const sched = (i: number) =>
        writer.ns
          .put(`schedule/m1/u${i}.service`)
          .value(JSON.stringify({ hash: H('a'), desiredState: 'launched' }));
      for (let i = 0; i < 50; i++) await sched(i);
      await waitFor('first 50 events', async () => events.length >= 50);
      await etcd.kill();
      await etcd.restart();
      // Written as soon as etcd is back, while the watcher is still reconnecting.
      for (let i = 50; i < 1600; i += 50) {
        await waitFor('etcd writable', async () => {
          await Promise.all(Array.from({ length: 50 }, (_, k) => sched(i + k)));
          return true;
        });
      }
      await waitFor('1600 events', async () => events.length >= 1600, 60_000);
      const units = events.map((e) => (e.kind === 'schedule' ? e.unit : '?'));
      expect(new Set(units).size).toBe(1600);
      expect(units).toHaveLength(1600);
      const revs = events.map((e) => e.revision);
      expect(revs).toEqual([...revs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    } finally {
      writer.client.close();
      await w.stop();
    }
  }, 180_000);

  it('a stopped watch whose conversion was still pending never changes what the next watch reports', async () => {
    // Unit contents reads that block on demand: the old watch's conversion waits on one while the
    // engine stops it, reloads and watches again (what LeaderSession.reload does).
    const cache = new UnitContentCache(ns);
    let arm: { blocked: () => void; release: Promise<void> } | null = null;
    let release = () => {};
    const slow = createEngineStore(ns, quietLog('engine-store'), {
      contents: {
        getMany: async (hashes) => {
          const a = arm;
          arm = null;
          if (a) {
            a.blocked();
            await a.release;
          }
          return cache.getMany(hashes);
        },
      },
    });
    const gone = await announceMachine(ns, 'm1', {}, 30);
    gone.crash(); // no keepalives: the record is deleted below by hand
    const s0 = await slow.loadSnapshot();
    expect(s0.state.machines.has('m1')).toBe(true);
    const first = slow.watch(s0.revision, { onEvents: () => {}, onReset: () => {} });
    // The next contents read (the old watch's) blocks until released.
    const blocked = new Promise<void>((r) => {
      arm = { blocked: r, release: new Promise<void>((done) => (release = done)) };
    });
    // A new unit and the machine leaving, in one watch response: its conversion blocks on the contents.
    const spec = unitSpec('slow.service', serviceText());
    await ns
      .if('job/slow.service', 'Create', '==', 0)
      .then(
        ns.put(`unit/${spec.hash}`).value(serviceText()),
        ns
          .put('job/slow.service')
          .value(JSON.stringify({ name: spec.name, hash: spec.hash, desiredState: 'launched' })),
        ns.delete().key('machines/m1/object'),
      )
      .commit();
    await blocked;
    const back = await announceMachine(ns, 'm1', {}, 30);
    const events: StoreEvent[] = [];
    let second: StoreWatch | undefined;
    try {
      await first.stop();
      const s1 = await slow.loadSnapshot();
      expect(s1.state.machines.has('m1')).toBe(true);
      second = slow.watch(s1.revision, { onEvents: (ev) => events.push(...ev), onReset: () => {} });
      // The stale conversion now completes (with the old machine delete in it).
      release();
      await sleep(200);
      await reg.setMachineMetadata('m1', 'role', 'db');
      const [ev] = await waitFor('metadata event', async () => (events.length > 0 ? events : null));
      expect(ev?.kind === 'machine' && ev.machine?.metadata).toEqual({ role: 'db' });
    } finally {
      release();
      await second?.stop();
      await back.leave();
    }
  });

  it('falls back to a full snapshot when the resume revision was compacted', async () => {
    const old = await store.loadSnapshot();
    await reg.createUnit(unitSpec('late.service', serviceText()));
    for (let i = 0; i < 5; i++)
      await ns
        .put(`schedule/m1/x${i}.service`)
        .value(JSON.stringify({ hash: H('a'), desiredState: 'launched' }));
    const now = await ns.put('job/filler').value('x');
    await raw.kv.compact({ revision: now.header.revision, physical: true });
    // Another watch on the same client keeps its watch stream open (as the engine's other watches do):
    // stopping the cancelled watch must then neither hang nor break that stream.
    const other = await ns.watch().key('engine/other').create();
    const { resets, w } = collect(old.revision);
    try {
      const [reset] = await waitFor('a reset', async () => (resets.length > 0 ? resets : null));
      expect(reset?.state.units.has('late.service')).toBe(true);
      expect(reset?.state.schedule.get('m1')?.size).toBe(5);
      await w.stop();
      const seen = new Promise<string>((r) => other.on('put', (kv) => r(kv.value.toString())));
      await ns.put('engine/other').value('still watched');
      expect(await seen).toBe('still watched');
    } finally {
      await w.stop();
      await other.cancel();
    }
  });
});

describe('engine store: guarded schedule writes', () => {
  it('writes many changes in transactions of at most 127 operations, deletes first', async () => {
    const guard = await becomeLeader();
    await ns.put('schedule/m0/old.service').value(JSON.stringify({ hash: H('a'), desiredState: 'launched' }));
    const changes: ScheduleChange[] = Array.from({ length: 300 }, (_, i) =>
      put(`m${i % 3}`, `u${i}.service`),
    );
    changes.push({ kind: 'delete', machineID: 'm0', unit: 'old.service', reason: 'test' });
    const snap = await store.loadSnapshot();
    const rev = await store.applyChanges(changes, guard, { current: snap.state.schedule });
    const kvs = (await ns.getAll().prefix('schedule/').exec()).kvs;
    expect(kvs).toHaveLength(300);
    const revisions = new Set(kvs.map((kv) => kv.mod_revision));
    expect(revisions.size).toBe(3);
    expect([...revisions].includes(rev ?? '')).toBe(true);
    // The delete committed before any put (a move never shows a unit on two machines).
    const del = await ns.watch().key('schedule/m0/old.service').startRevision(snap.revision).create();
    const delRev = await new Promise<string>((r) => del.on('delete', (kv) => r(kv.mod_revision)));
    await del.cancel();
    for (const r of revisions) expect(BigInt(delRev) < BigInt(r)).toBe(true);
  });

  it('sizes transactions to the configured etcd --max-txn-ops', async () => {
    const guard = await becomeLeader();
    const small = createEngineStore(ns, quietLog('engine-store'), { maxTxnOps: 11 });
    const changes = Array.from({ length: 45 }, (_, i) => put('m1', `s${i}.service`));
    const snap = await small.loadSnapshot();
    await small.applyChanges(changes, guard, { current: snap.state.schedule });
    const kvs = (await ns.getAll().prefix('schedule/').exec()).kvs;
    expect(kvs).toHaveLength(45);
    // 10 operations (plus the leader compare) per transaction: 5 transactions.
    expect(new Set(kvs.map((kv) => kv.mod_revision)).size).toBe(5);
  });

  it("rejects a deposed leader's writes with NotLeaderError and writes nothing", async () => {
    const guard = await becomeLeader('old');
    await ns.delete().key('engine/leader');
    await becomeLeader('new');
    await expect(store.applyChanges([put('m1', 'a.service')], guard)).rejects.toBeInstanceOf(NotLeaderError);
    expect(await ns.getAll().prefix('schedule/').keys()).toEqual([]);
  });

  it('refuses to write when the leader can no longer prove its lease (stillLeader false)', async () => {
    const guard = await becomeLeader();
    await expect(
      store.applyChanges([put('m1', 'a.service')], guard, { stillLeader: () => false }),
    ).rejects.toBeInstanceOf(NotLeaderError);
    expect(await ns.getAll().prefix('schedule/').keys()).toEqual([]);
  });

  it('fails with StaleScheduleError instead of placing a unit the engine wrongly believed unscheduled', async () => {
    const guard = await becomeLeader();
    await ns.put('schedule/m1/a.service').value(JSON.stringify({ hash: H('a'), desiredState: 'launched' }));
    // The engine's (stale) view has no placement of a.service on m1.
    await expect(
      store.applyChanges([put('m1', 'a.service', H('b'))], guard, { current: new Map() }),
    ).rejects.toBeInstanceOf(StaleScheduleError);
    expect(JSON.parse((await ns.get('schedule/m1/a.service').string()) ?? '{}').hash).toBe(H('a'));
  });

  it('a move off a machine seen absent fails as stale, writing nothing, when that machine re-registered', async () => {
    const guard = await becomeLeader();
    await ns.put('schedule/m1/a.service').value(JSON.stringify({ hash: H('a'), desiredState: 'launched' }));
    const snap = await store.loadSnapshot(); // m1 absent in the engine's view
    await announceMachine(ns, 'm1', {}, 5); // ... and back right before the move commits
    await announceMachine(ns, 'm2', {}, 5);
    const move: ScheduleChange[] = [
      { kind: 'delete', machineID: 'm1', unit: 'a.service', reason: 'target Machine(m1) went away' },
      put('m2', 'a.service'),
    ];
    await expect(
      store.applyChanges(move, guard, { current: snap.state.schedule, present: new Set(['m2']) }),
    ).rejects.toBeInstanceOf(StaleScheduleError);
    expect(await ns.getAll().prefix('schedule/').keys()).toEqual(['schedule/m1/a.service']);
    // Still absent: the same move commits.
    await ns.delete().key('machines/m1/object');
    await store.applyChanges(move, guard, { current: snap.state.schedule, present: new Set(['m2']) });
    expect(await ns.getAll().prefix('schedule/').keys()).toEqual(['schedule/m2/a.service']);
  });
});
