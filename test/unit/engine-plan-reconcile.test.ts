// Planner reconcile of existing schedule entries, and the same plan for the same input in any order.
import { describe, expect, it } from 'vitest';
import { planReconcile } from '../../engine/plan.js';
import type { ScheduleRecord } from '../../units/types.js';
import {
  HASH_B,
  launched,
  loaded,
  M1,
  M2,
  M3,
  machine,
  scheduleOf,
  state,
  step,
  unit,
  where,
} from './engine-fixtures.js';

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
