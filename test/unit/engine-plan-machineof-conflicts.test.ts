// Planner relations between units: MachineOf (co-location) and Conflicts (never on the same machine).
import { describe, expect, it } from 'vitest';
import { planReconcile } from '../../engine/plan.js';
import { launched, M1, M2, M3, machine, scheduleOf, state, step, unit, where } from './engine-fixtures.js';

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
