// Planner: global units get an entry on every machine that matches, conflicts and departures included.
import { describe, expect, it } from 'vitest';
import { planReconcile } from '../../engine/plan.js';
import {
  HASH_A,
  launched,
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
