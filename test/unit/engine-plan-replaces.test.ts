// Planner: Replaces — the replacing unit may take the replaced one's machine, which moves; chains, cycles.
import { describe, expect, it } from 'vitest';
import { planReconcile } from '../../engine/plan.js';
import { launched, M1, M2, M3, machine, scheduleOf, state, step, unit, where } from './engine-fixtures.js';

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
