// Planner placement: least-loaded machine (ties to the lowest ID), MachineID and MachineMetadata.
import { describe, expect, it } from 'vitest';
import { planReconcile } from '../../engine/plan.js';
import {
  launched,
  loaded,
  loads,
  M1,
  M2,
  M3,
  machine,
  mid,
  scheduleOf,
  state,
  step,
  unit,
  where,
} from './engine-fixtures.js';

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
