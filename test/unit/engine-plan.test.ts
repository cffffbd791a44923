import { describe, expect, it } from 'vitest';
import { planReconcile } from '../../engine/plan.js';
import type { ScheduleRecord } from '../../units/types.js';
import {
  HASH_A,
  HASH_B,
  loads,
  machine,
  mid,
  scheduleOf,
  state,
  step,
  unit,
  where,
} from './engine-fixtures.js';

const M1 = mid('11111111');
const M2 = mid('22222222');
const M3 = mid('33333333');
const launched = { hash: HASH_A, desiredState: 'launched' } as const;
const loaded = { hash: HASH_A, desiredState: 'loaded' } as const;

describe('placement: least loaded, ties to the lowest machine ID', () => {
  it('places one unit on the lowest machine ID when all are empty', () => {
    const { plan } = step(state([unit('a.service')], [machine(M3), machine(M1), machine(M2)]));
    expect(plan).toEqual([
      { kind: 'put', machineID: M1, unit: 'a.service', record: launched, reason: 'unit scheduled' },
    ]);
  });

  it('prefers the machine with fewer units', () => {
    const s = state(
      [unit('a.service'), unit('b.service'), unit('new.service')],
      [machine(M1), machine(M2), machine(M3)],
      scheduleOf({ [M1]: { 'a.service': launched }, [M2]: { 'b.service': launched } }),
    );
    expect(where(step(s).schedule)['new.service']).toEqual([M3]);
  });

  it('six identical units on three machines end up two per machine', () => {
    const units = ['1', '2', '3', '4', '5', '6'].map((n) => unit(`hello${n}.service`));
    const { schedule } = step(state(units, [machine(M1), machine(M2), machine(M3)]));
    expect(loads(schedule)).toEqual({ [M1]: 2, [M2]: 2, [M3]: 2 });
  });

  it('places units in name order, round-robin over equally loaded machines', () => {
    const units = ['c', 'a', 'b'].map((n) => unit(`${n}.service`));
    const { schedule } = step(state(units, [machine(M2), machine(M1)]));
    expect(where(schedule)).toEqual({ 'a.service': [M1], 'b.service': [M2], 'c.service': [M1] });
  });

  it('inactive units are not placed, loaded units are placed with desiredState loaded', () => {
    const { plan } = step(
      state([unit('a.service', {}, 'inactive'), unit('b.service', {}, 'loaded')], [machine(M1)]),
    );
    expect(plan).toEqual([
      { kind: 'put', machineID: M1, unit: 'b.service', record: loaded, reason: 'unit scheduled' },
    ]);
  });

  it('with no machines nothing is placed and nothing throws', () => {
    expect(planReconcile(state([unit('a.service')], []))).toEqual([]);
  });

  it('global units count toward load', () => {
    const s = state(
      [unit('g.service', { global: true, metadata: { role: ['web'] } }), unit('z.service')],
      [machine(M1, { role: 'web' }), machine(M2)],
    );
    expect(where(step(s).schedule)).toEqual({ 'g.service': [M1], 'z.service': [M2] });
  });
});

describe('MachineID', () => {
  it('accepts the full ID', () => {
    const s = state([unit('a.service', { machineID: M3 })], [machine(M1), machine(M2), machine(M3)]);
    expect(where(step(s).schedule)).toEqual({ 'a.service': [M3] });
  });

  it('accepts the 8-character short ID', () => {
    const s = state([unit('a.service', { machineID: '22222222' })], [machine(M1), machine(M2), machine(M3)]);
    expect(where(step(s).schedule)).toEqual({ 'a.service': [M2] });
  });

  it('pinned to an absent machine stays unscheduled, every plan', () => {
    const s = state([unit('a.service', { machineID: mid('99999999') })], [machine(M1), machine(M2)]);
    expect(planReconcile(s)).toEqual([]);
  });

  it('a pinned unit whose machine goes away is not moved: its entry stays for when the machine returns', () => {
    // Issue 13: deleting it would make the returning agent stop the unit only to start it again.
    const s = state(
      [unit('a.service', { machineID: M2 })],
      [machine(M1)],
      scheduleOf({ [M2]: { 'a.service': launched } }),
    );
    expect(planReconcile(s)).toEqual([]);
  });

  it('a movable unit whose machine goes away is placed elsewhere and its old entry deleted', () => {
    const s = state([unit('a.service')], [machine(M1)], scheduleOf({ [M2]: { 'a.service': launched } }));
    expect(planReconcile(s).map((c) => [c.kind, c.machineID, c.unit])).toEqual([
      ['delete', M2, 'a.service'],
      ['put', M1, 'a.service'],
    ]);
  });

  it('a held unit (absent machine not yet known lost) is neither moved nor deleted', () => {
    const s = state([unit('a.service')], [machine(M1)], scheduleOf({ [M2]: { 'a.service': launched } }));
    expect(planReconcile({ ...s, hold: new Set(['a.service']) })).toEqual([]);
  });

  it('a destroyed or unloaded unit on an absent machine is deleted', () => {
    const s = state(
      [unit('b.service', {}, 'inactive')],
      [machine(M1)],
      scheduleOf({ [M2]: { 'a.service': launched, 'b.service': launched } }),
    );
    expect(planReconcile(s).map((c) => [c.kind, c.unit, c.reason])).toEqual([
      ['delete', 'a.service', 'unit destroyed'],
      ['delete', 'b.service', 'target state inactive'],
    ]);
  });

  it('%i expands to the instance: pin@<short id>.service runs there', () => {
    const s = state(
      [unit('pin@33333333.service', { machineID: '%i' })],
      [machine(M1), machine(M2), machine(M3)],
    );
    expect(where(step(s).schedule)).toEqual({ 'pin@33333333.service': [M3] });
  });
});

describe('MachineMetadata', () => {
  const machines = [
    machine(M1, { region: 'us-east-1', diskType: 'HDD' }),
    machine(M2, { region: 'us-west-1', diskType: 'SSD' }),
    machine(M3, { region: 'us-east-1', diskType: 'SSD' }),
  ];

  it('same key is OR, different keys are AND', () => {
    const u = unit('a.service', { metadata: { region: ['us-east-1', 'us-west-1'], diskType: ['SSD'] } });
    const { schedule } = step(state([u], machines));
    expect(where(schedule)).toEqual({ 'a.service': [M2] });
    // Both SSD machines qualify: two such units spread over M2 and M3 only.
    const v = unit('b.service', { metadata: { region: ['us-east-1', 'us-west-1'], diskType: ['SSD'] } });
    expect(where(step(state([u, v], machines)).schedule)).toEqual({ 'a.service': [M2], 'b.service': [M3] });
  });

  it('a machine lacking the key fails', () => {
    const s = state([unit('a.service', { metadata: { rack: ['1'] } })], machines);
    expect(planReconcile(s)).toEqual([]);
  });

  it('values are exact matches', () => {
    const s = state([unit('a.service', { metadata: { region: ['us-east'] } })], machines);
    expect(planReconcile(s)).toEqual([]);
  });

  it('%i expands: metadata@east.service matches hostname=east', () => {
    const s = state(
      [unit('metadata@east.service', { metadata: { hostname: ['%i'] } })],
      [machine(M1, { hostname: 'west' }), machine(M2, { hostname: 'east' })],
    );
    expect(where(step(s).schedule)).toEqual({ 'metadata@east.service': [M2] });
  });

  it('metadata changed: the unit is unscheduled and re-placed on a machine that matches', () => {
    const u = unit('a.service', { metadata: { role: ['db'] } });
    const s = state(
      [u],
      [machine(M1, { role: 'web' }), machine(M2, { role: 'db' })],
      scheduleOf({ [M1]: { 'a.service': launched } }),
    );
    expect(planReconcile(s)).toEqual([
      {
        kind: 'delete',
        machineID: M1,
        unit: 'a.service',
        reason: `target Machine(${M1}) unable to run unit: machine metadata does not match`,
      },
      {
        kind: 'put',
        machineID: M2,
        unit: 'a.service',
        record: launched,
        reason: `rescheduled from Machine(${M1})`,
      },
    ]);
  });
});

describe('MachineOf', () => {
  it('the follower is placed with its peer, even when it sorts first', () => {
    const s = state(
      [
        unit('a-follower.service', { machineOf: ['z-peer.service'] }),
        unit('z-peer.service'),
        unit('b.service'),
      ],
      [machine(M1), machine(M2), machine(M3)],
    );
    const w = where(step(s).schedule);
    expect(w['a-follower.service']).toEqual(w['z-peer.service']);
  });

  it('%p.socket: the service follows its socket', () => {
    const s = state(
      [unit('web@1.service', { machineOf: ['%p@%i.socket'] }), unit('web@1.socket'), unit('x.service')],
      [machine(M1), machine(M2)],
      scheduleOf({ [M2]: { 'web@1.socket': launched } }),
    );
    expect(where(step(s).schedule)['web@1.service']).toEqual([M2]);
  });

  it('peer unscheduled (inactive) → the follower is unscheduled', () => {
    const s = state(
      [unit('f.service', { machineOf: ['p.service'] }), unit('p.service', {}, 'inactive')],
      [machine(M1)],
      scheduleOf({ [M1]: { 'f.service': launched, 'p.service': launched } }),
    );
    expect(planReconcile(s)).toEqual([
      {
        kind: 'delete',
        machineID: M1,
        unit: 'f.service',
        reason: `target Machine(${M1}) unable to run unit: peer Unit(p.service) is not scheduled here`,
      },
      { kind: 'delete', machineID: M1, unit: 'p.service', reason: 'target state inactive' },
    ]);
  });

  it('peer missing entirely → the follower stays unscheduled', () => {
    expect(planReconcile(state([unit('f.service', { machineOf: ['nope.service'] })], [machine(M1)]))).toEqual(
      [],
    );
  });

  it('peer moved (its machine went away) → the follower moves with it', () => {
    const s = state(
      [unit('f.service', { machineOf: ['p.service'] }), unit('p.service'), unit('x.service')],
      [machine(M1), machine(M3)],
      scheduleOf({ [M1]: { 'x.service': launched }, [M2]: { 'f.service': launched, 'p.service': launched } }),
    );
    const { schedule } = step(s);
    expect(where(schedule)).toEqual({ 'f.service': [M3], 'p.service': [M3], 'x.service': [M1] });
  });

  it('peer moved (metadata changed) → the follower moves with it', () => {
    const s = state(
      [unit('f.service', { machineOf: ['p.service'] }), unit('p.service', { metadata: { disk: ['ssd'] } })],
      [machine(M1, { disk: 'hdd' }), machine(M2, { disk: 'ssd' })],
      scheduleOf({ [M1]: { 'f.service': launched, 'p.service': launched } }),
    );
    const { plan, schedule } = step(s);
    expect(where(schedule)).toEqual({ 'f.service': [M2], 'p.service': [M2] });
    expect(plan.filter((c) => c.kind === 'delete').map((c) => c.reason)).toEqual([
      `target Machine(${M1}) unable to run unit: peer Unit(p.service) is not scheduled here`,
      `target Machine(${M1}) unable to run unit: machine metadata does not match`,
    ]);
  });

  it('a global peer: the follower goes to the least-loaded machine running it', () => {
    const s = state(
      [
        unit('f.service', { machineOf: ['g.service'] }),
        unit('g.service', { global: true, metadata: { r: ['x'] } }),
      ],
      [machine(M1), machine(M2, { r: 'x' }), machine(M3, { r: 'x' })],
    );
    expect(where(step(s).schedule)).toEqual({ 'f.service': [M2], 'g.service': [M2, M3] });
  });

  it('MachineOf on itself, or bidirectional MachineOf: never scheduled, never throws', () => {
    const s = state(
      [
        unit('self.service', { machineOf: ['self.service'] }),
        unit('a.service', { machineOf: ['b.service'] }),
        unit('b.service', { machineOf: ['a.service'] }),
      ],
      [machine(M1)],
    );
    expect(planReconcile(s)).toEqual([]);
  });

  it('a follower with two peers needs both on the same machine', () => {
    const s = state(
      [unit('f.service', { machineOf: ['p.service', 'q.service'] }), unit('p.service'), unit('q.service')],
      [machine(M1), machine(M2)],
      scheduleOf({ [M1]: { 'p.service': launched }, [M2]: { 'q.service': launched } }),
    );
    expect(where(step(s).schedule)['f.service']).toBeUndefined();
  });
});

describe('Conflicts', () => {
  it('both directions: neither may join the other, even on the least-loaded machine', () => {
    // M2 already runs two units, M1 one: without a conflict b would go to M1.
    const existing = scheduleOf({
      [M1]: { 'a.service': launched },
      [M2]: { 'f1.service': launched, 'f2.service': launched },
    });
    const machines = [machine(M1), machine(M2)];
    const fillers = ['f1', 'f2'].map((n) => unit(`${n}.service`));
    // b names a (forward).
    const forward = state(
      [unit('a.service'), unit('b.service', { conflicts: ['a.service'] }), ...fillers],
      machines,
      existing,
    );
    expect(where(step(forward).schedule)['b.service']).toEqual([M2]);
    // a names b (reverse).
    const reverse = state(
      [unit('a.service', { conflicts: ['b.service'] }), unit('b.service'), ...fillers],
      machines,
      existing,
    );
    expect(where(step(reverse).schedule)['b.service']).toEqual([M2]);
    // No conflict at all: b goes to the emptier M1 (1 unit vs 2).
    const none = state([unit('a.service'), unit('b.service'), ...fillers], machines, existing);
    expect(where(step(none).schedule)['b.service']).toEqual([M1]);
  });

  it('globs: apache@*.service instances spread one per machine, the extra stays unscheduled', () => {
    const units = ['1', '2', '3'].map((n) =>
      unit(`apache@${n}.service`, { conflicts: ['apache@*.service'] }),
    );
    const { schedule, next } = step(state(units, [machine(M1), machine(M2)]));
    expect(where(schedule)).toEqual({ 'apache@1.service': [M1], 'apache@2.service': [M2] });
    expect(planReconcile(next)).toEqual([]);
  });

  it('a unit never conflicts with itself', () => {
    const s = state(
      [unit('apache@1.service', { conflicts: ['apache@*.service', 'apache@1.service'] })],
      [machine(M1)],
    );
    const { schedule, next } = step(s);
    expect(where(schedule)).toEqual({ 'apache@1.service': [M1] });
    expect(planReconcile(next)).toEqual([]);
  });

  it('an existing conflicting pair on one machine (e.g. after --replace): the later name is moved', () => {
    const s = state(
      [unit('a.service', { conflicts: ['b.service'] }), unit('b.service')],
      [machine(M1), machine(M2)],
      scheduleOf({ [M1]: { 'a.service': launched, 'b.service': launched } }),
    );
    expect(planReconcile(s)).toEqual([
      {
        kind: 'delete',
        machineID: M1,
        unit: 'b.service',
        reason: `target Machine(${M1}) unable to run unit: found conflict with locally-scheduled Unit(a.service)`,
      },
      {
        kind: 'put',
        machineID: M2,
        unit: 'b.service',
        record: launched,
        reason: `rescheduled from Machine(${M1})`,
      },
    ]);
  });

  it('multiple patterns in one unit, and ? / [..] globs', () => {
    const units = [
      unit('db1.service'),
      unit('cache-a.service'),
      unit('z.service', { conflicts: ['db?.service', 'cache-[ab].service'] }),
    ];
    const s = state(
      units,
      [machine(M1), machine(M2), machine(M3)],
      scheduleOf({
        [M1]: { 'db1.service': launched },
        [M2]: { 'cache-a.service': launched },
      }),
    );
    expect(where(step(s).schedule)['z.service']).toEqual([M3]);
  });

  it('%p@*.service: instances of one template spread, other templates are not affected', () => {
    const units = [
      unit('web@1.service', { conflicts: ['%p@*.service'] }),
      unit('web@2.service', { conflicts: ['%p@*.service'] }),
      unit('api@1.service', { conflicts: ['%p@*.service'] }),
    ];
    const { schedule } = step(state(units, [machine(M1), machine(M2)]));
    expect(where(schedule)).toEqual({ 'api@1.service': [M1], 'web@1.service': [M2], 'web@2.service': [M1] });
  });

  it('empty and malformed globs never throw', () => {
    const s = state([unit('a.service', { conflicts: ['', '[', 'a\\'] }), unit('b.service')], [machine(M1)]);
    expect(() => planReconcile(s)).not.toThrow();
  });
});

describe('Global units', () => {
  const g = unit('g.service', { global: true, metadata: { role: ['web'] } });
  const gRec = { hash: HASH_A, desiredState: 'launched', global: true } as const;

  it('one entry with global=true on every matching machine', () => {
    const s = state(
      [g],
      [machine(M1, { role: 'web' }), machine(M2, { role: 'db' }), machine(M3, { role: 'web' })],
    );
    expect(planReconcile(s)).toEqual([
      {
        kind: 'put',
        machineID: M1,
        unit: 'g.service',
        record: gRec,
        reason: `global unit runs on Machine(${M1})`,
      },
      {
        kind: 'put',
        machineID: M3,
        unit: 'g.service',
        record: gRec,
        reason: `global unit runs on Machine(${M3})`,
      },
    ]);
  });

  it('a machine that joins later gets it on the next plan', () => {
    const first = step(state([g], [machine(M1, { role: 'web' })]));
    const joined = {
      ...first.next,
      machines: new Map([...first.next.machines, [M2, machine(M2, { role: 'web' })]]),
    };
    expect(planReconcile(joined)).toEqual([
      {
        kind: 'put',
        machineID: M2,
        unit: 'g.service',
        record: gRec,
        reason: `global unit runs on Machine(${M2})`,
      },
    ]);
  });

  it('metadata changed: removed where it no longer matches', () => {
    const s = state(
      [g],
      [machine(M1, { role: 'web' }), machine(M2, { role: 'db' })],
      scheduleOf({ [M1]: { 'g.service': gRec }, [M2]: { 'g.service': gRec } }),
    );
    expect(planReconcile(s)).toEqual([
      {
        kind: 'delete',
        machineID: M2,
        unit: 'g.service',
        reason: `target Machine(${M2}) unable to run unit: machine metadata does not match`,
      },
    ]);
  });

  it('inactive or destroyed: every entry deleted', () => {
    const sched = scheduleOf({ [M1]: { 'g.service': gRec }, [M2]: { 'g.service': gRec } });
    const machines = [machine(M1, { role: 'web' }), machine(M2, { role: 'web' })];
    const inactive = planReconcile(state([unit('g.service', { global: true }, 'inactive')], machines, sched));
    expect(inactive.map((c) => [c.kind, c.machineID, c.reason])).toEqual([
      ['delete', M1, 'target state inactive'],
      ['delete', M2, 'target state inactive'],
    ]);
    const destroyed = planReconcile(state([], machines, sched));
    expect(destroyed.map((c) => [c.kind, c.machineID, c.reason])).toEqual([
      ['delete', M1, 'unit destroyed'],
      ['delete', M2, 'unit destroyed'],
    ]);
  });

  it('a global without metadata runs everywhere; stop→start updates every record', () => {
    const all = unit('all.service', { global: true }, 'loaded');
    const first = step(state([all], [machine(M1), machine(M2)]));
    expect(where(first.schedule)).toEqual({ 'all.service': [M1, M2] });
    const started = {
      ...first.next,
      units: new Map([['all.service', unit('all.service', { global: true })]]),
    };
    expect(planReconcile(started).map((c) => [c.kind, c.machineID, c.reason])).toEqual([
      ['put', M1, 'target state loaded -> launched'],
      ['put', M2, 'target state loaded -> launched'],
    ]);
  });

  it('skips a machine where it conflicts with a unit already there (both directions)', () => {
    const machines = [machine(M1), machine(M2), machine(M3)];
    const sched = scheduleOf({ [M1]: { 'a.service': launched }, [M2]: { 'b.service': launched } });
    const s = state(
      [
        unit('g.service', { global: true, conflicts: ['a.service'] }),
        unit('a.service'),
        unit('b.service', { conflicts: ['g.*'] }),
      ],
      machines,
      sched,
    );
    expect(where(step(s).schedule)['g.service']).toEqual([M3]);
  });

  it('a non-global unit conflicting with a global that runs everywhere stays unscheduled', () => {
    const s = state(
      [unit('all.service', { global: true }), unit('loner.service', { conflicts: ['all.service'] })],
      [machine(M1), machine(M2)],
    );
    expect(where(step(s).schedule)).toEqual({ 'all.service': [M1, M2] });
  });

  it('globals are placed in name order: the first wins a conflict between two globals', () => {
    const s = state(
      [unit('g2.service', { global: true }), unit('g1.service', { global: true, conflicts: ['g2.service'] })],
      [machine(M1)],
    );
    expect(where(step(s).schedule)).toEqual({ 'g1.service': [M1] });
  });

  it('a global entry on a machine that went away is kept (the machine gets it back unchanged)', () => {
    const s = state(
      [unit('all.service', { global: true })],
      [machine(M1)],
      scheduleOf({ [M1]: { 'all.service': gRec }, [M2]: { 'all.service': gRec } }),
    );
    expect(planReconcile(s)).toEqual([]);
  });
});

describe('Replaces', () => {
  it('the replacing unit may land where the replaced one runs; the replaced one moves', () => {
    const s = state(
      [unit('old.service'), unit('new.service', { replaces: ['old.service'] }), unit('x.service')],
      [machine(M1), machine(M2)],
      scheduleOf({ [M1]: { 'old.service': launched }, [M2]: { 'x.service': launched } }),
    );
    // Both machines have one unit; the tie goes to M1, where old runs.
    const { plan, schedule } = step(s);
    expect(where(schedule)).toEqual({ 'new.service': [M1], 'old.service': [M2], 'x.service': [M2] });
    expect(plan).toContainEqual({
      kind: 'delete',
      machineID: M1,
      unit: 'old.service',
      reason: 'replaced by Unit(new.service)',
    });
  });

  it('the replaced unit still obeys its own constraints: stays unscheduled if no other machine fits', () => {
    const s = state(
      [unit('old.service', { metadata: { r: ['a'] } }), unit('new.service', { replaces: ['old.*'] })],
      [machine(M1, { r: 'a' }), machine(M2, { r: 'b' })],
      scheduleOf({ [M1]: { 'old.service': launched } }),
    );
    // M1 (load 1) vs M2 (load 0): new goes to M2, nothing to replace.
    expect(where(step(s).schedule)).toEqual({ 'new.service': [M2], 'old.service': [M1] });
    const pinned = state(
      [
        unit('old.service', { metadata: { r: ['a'] } }),
        unit('new.service', { replaces: ['old.*'], machineID: M1 }),
      ],
      [machine(M1, { r: 'a' }), machine(M2, { r: 'b' })],
      scheduleOf({ [M1]: { 'old.service': launched } }),
    );
    const { schedule, next } = step(pinned);
    expect(where(schedule)).toEqual({ 'new.service': [M1] });
    expect(planReconcile(next)).toEqual([]);
  });

  it('the replaced unit is never placed where its replacer runs', () => {
    const s = state(
      [
        unit('old.service'),
        unit('new.service', { replaces: ['old.service'] }),
        unit('x.service'),
        unit('y.service'),
      ],
      [machine(M1), machine(M2)],
      scheduleOf({
        [M1]: { 'new.service': launched },
        [M2]: { 'x.service': launched, 'y.service': launched },
      }),
    );
    // M1 is less loaded (1 vs 2) but runs old's replacer.
    expect(where(step(s).schedule)['old.service']).toEqual([M2]);
  });

  it('both already on one machine: the replaced one moves, whatever the names', () => {
    for (const [r, x] of [
      ['a-new.service', 'z-old.service'],
      ['z-new.service', 'a-old.service'],
    ] as const) {
      const s = state(
        [unit(r, { replaces: [x] }), unit(x)],
        [machine(M1), machine(M2)],
        scheduleOf({ [M1]: { [r]: launched, [x]: launched } }),
      );
      expect(where(step(s).schedule)).toEqual({ [r]: [M1], [x]: [M2] });
    }
  });

  it('followers of the replaced unit move with it', () => {
    const s = state(
      [
        unit('old.service'),
        unit('old-sidecar.service', { machineOf: ['old.service'] }),
        unit('new.service', { replaces: ['old.service'], machineID: M1 }),
      ],
      [machine(M1), machine(M2)],
      scheduleOf({ [M1]: { 'old.service': launched, 'old-sidecar.service': launched } }),
    );
    const { schedule, next } = step(s);
    expect(where(schedule)).toEqual({
      'new.service': [M1],
      'old.service': [M2],
      'old-sidecar.service': [M2],
    });
    expect(planReconcile(next)).toEqual([]);
  });

  it('a replace chain: v3 displaces v2, which displaces v1', () => {
    const s = state(
      [
        unit('v1.service'),
        unit('v2.service', { replaces: ['v1.service'] }),
        unit('v3.service', { replaces: ['v2.service'] }),
      ],
      [machine(M1), machine(M2), machine(M3)],
      scheduleOf({ [M1]: { 'v1.service': launched, 'v2.service': launched, 'v3.service': launched } }),
    );
    const { schedule, next } = step(s);
    const w = where(schedule);
    expect(w['v3.service']).toEqual([M1]);
    expect(w['v2.service']).not.toEqual(w['v3.service']);
    expect(w['v1.service']).not.toEqual(w['v2.service']);
    expect(planReconcile(next)).toEqual([]);
  });

  it('a unit whose MachineOf peer it replaces can never be placed (and the plan does not loop)', () => {
    const s = state(
      [unit('p.service'), unit('f.service', { machineOf: ['p.service'], replaces: ['p.service'] })],
      [machine(M1)],
      scheduleOf({ [M1]: { 'p.service': launched } }),
    );
    expect(planReconcile(s)).toEqual([]);
  });

  it('circular replaces (both directions) are ignored', () => {
    const s = state(
      [unit('a.service', { replaces: ['b.service'] }), unit('b.service', { replaces: ['a.service'] })],
      [machine(M1), machine(M2)],
      scheduleOf({ [M1]: { 'a.service': launched, 'b.service': launched } }),
    );
    expect(planReconcile(s)).toEqual([]);
  });

  it('a longer replace cycle is ignored too, so plans converge', () => {
    const s = state(
      [
        unit('a.service', { replaces: ['b.service'] }),
        unit('b.service', { replaces: ['c.service'] }),
        unit('c.service', { replaces: ['a.service'] }),
      ],
      [machine(M1)],
    );
    const { schedule, next } = step(s);
    expect(where(schedule)).toEqual({ 'a.service': [M1], 'b.service': [M1], 'c.service': [M1] });
    expect(planReconcile(next)).toEqual([]);
  });
});

describe('reconcile of existing entries', () => {
  it('converged state → empty plan', () => {
    const s = state(
      [unit('a.service'), unit('b.service', {}, 'loaded'), unit('g.service', { global: true })],
      [machine(M1), machine(M2)],
    );
    const { next } = step(s);
    expect(planReconcile(next)).toEqual([]);
  });

  it('machine gone → its units re-placed on the survivors, least loaded first', () => {
    const s = state(
      [unit('a.service'), unit('b.service'), unit('c.service')],
      [machine(M1), machine(M3)],
      scheduleOf({ [M1]: { 'c.service': launched }, [M2]: { 'a.service': launched, 'b.service': launched } }),
    );
    const { plan, schedule } = step(s);
    expect(plan.filter((c) => c.kind === 'delete')).toEqual([
      { kind: 'delete', machineID: M2, unit: 'a.service', reason: `target Machine(${M2}) went away` },
      { kind: 'delete', machineID: M2, unit: 'b.service', reason: `target Machine(${M2}) went away` },
    ]);
    expect(where(schedule)).toEqual({ 'a.service': [M3], 'b.service': [M1], 'c.service': [M1] });
  });

  it('desired state change → record updated in place', () => {
    const s = state(
      [unit('a.service', {}, 'loaded')],
      [machine(M1), machine(M2)],
      scheduleOf({ [M2]: { 'a.service': launched } }),
    );
    expect(planReconcile(s)).toEqual([
      {
        kind: 'put',
        machineID: M2,
        unit: 'a.service',
        record: loaded,
        reason: 'target state launched -> loaded',
      },
    ]);
  });

  it('hash change (replace) → record updated in place', () => {
    const s = state(
      [unit('a.service', {}, 'launched', HASH_B)],
      [machine(M1), machine(M2)],
      scheduleOf({ [M2]: { 'a.service': launched } }),
    );
    expect(planReconcile(s)).toEqual([
      {
        kind: 'put',
        machineID: M2,
        unit: 'a.service',
        record: { hash: HASH_B, desiredState: 'launched' },
        reason: 'hash aaaaaaa -> bbbbbbb',
      },
    ]);
  });

  it('target state inactive → deleted', () => {
    const s = state(
      [unit('a.service', {}, 'inactive')],
      [machine(M1)],
      scheduleOf({ [M1]: { 'a.service': launched } }),
    );
    expect(planReconcile(s)).toEqual([
      { kind: 'delete', machineID: M1, unit: 'a.service', reason: 'target state inactive' },
    ]);
  });

  it('destroyed → deleted', () => {
    const s = state([], [machine(M1)], scheduleOf({ [M1]: { 'a.service': launched } }));
    expect(planReconcile(s)).toEqual([
      { kind: 'delete', machineID: M1, unit: 'a.service', reason: 'unit destroyed' },
    ]);
  });

  it('a non-global unit on two machines: the first (lowest ID) valid entry is kept', () => {
    const s = state(
      [unit('a.service')],
      [machine(M1), machine(M2), machine(M3)],
      scheduleOf({ [M3]: { 'a.service': launched }, [M2]: { 'a.service': loaded } }),
    );
    expect(planReconcile(s)).toEqual([
      {
        kind: 'delete',
        machineID: M3,
        unit: 'a.service',
        reason: `duplicate schedule entry; unit kept on Machine(${M2})`,
      },
      {
        kind: 'put',
        machineID: M2,
        unit: 'a.service',
        record: launched,
        reason: 'target state loaded -> launched',
      },
    ]);
  });

  it('a unit that became global gets the global flag and fans out', () => {
    const s = state(
      [unit('a.service', { global: true })],
      [machine(M1), machine(M2)],
      scheduleOf({ [M2]: { 'a.service': launched } }),
    );
    expect(planReconcile(s).map((c) => [c.kind, c.machineID, c.reason])).toEqual([
      ['put', M1, `global unit runs on Machine(${M1})`],
      ['put', M2, 'now global'],
    ]);
  });

  it('a newly submitted unit never moves an existing one (existing placements are kept)', () => {
    const s = state(
      [unit('a.service'), unit('b.service', { conflicts: ['a.service'] })],
      [machine(M1)],
      scheduleOf({ [M1]: { 'b.service': launched } }),
    );
    expect(planReconcile(s)).toEqual([]);
  });
});

describe('determinism', () => {
  const build = (shuffle: boolean) => {
    const units = [
      unit('a.service'),
      unit('b@1.service', { conflicts: ['b@*.service'] }),
      unit('b@2.service', { conflicts: ['b@*.service'] }),
      unit('c.service', { machineOf: ['a.service'] }),
      unit('g.service', { global: true }),
      unit('d.service', { metadata: { r: ['x'] } }),
      unit('e.service', { replaces: ['a.service'] }),
    ];
    const machines = [machine(M1, { r: 'x' }), machine(M2), machine(M3, { r: 'x' })];
    const sched: Record<string, Record<string, ScheduleRecord>> = {
      [M2]: { 'a.service': launched },
      [M3]: { 'old.service': launched },
    };
    if (!shuffle) return state(units, machines, scheduleOf(sched));
    return state(
      [...units].reverse(),
      [...machines].reverse(),
      scheduleOf(Object.fromEntries(Object.entries(sched).reverse())),
    );
  };

  it('same input → same output; shuffled map order → same output', () => {
    const one = planReconcile(build(false));
    expect(planReconcile(build(false))).toEqual(one);
    expect(planReconcile(build(true))).toEqual(one);
    expect(one.length).toBeGreaterThan(0);
  });
});
