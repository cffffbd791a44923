import { describe, expect, it } from 'vitest';
import { decideAbsence } from '../../engine/absence.js';
import { machine, scheduleOf, unit } from './engine-fixtures.js';

const rec = { hash: 'a'.repeat(40), desiredState: 'launched' } as const;
const units = new Map([
  ['plain.service', unit('plain.service')],
  ['single.service', unit('single.service', { stopOnDisconnect: { stopTimeoutMs: 10_000 } })],
]);
const schedule = scheduleOf({ m1: { 'plain.service': rec }, m2: { 'single.service': rec } });
const onlyM1 = new Map([['m1', machine('m1')]]);

describe('absent machines', () => {
  it('during the grace window every unit of an absent machine is held, and the planner is woken at its end', () => {
    const d = decideAbsence({
      now: 100,
      graceUntil: 5000,
      units,
      machines: new Map(),
      schedule,
      lostAt: new Map(),
    });
    expect([...d.hold].sort()).toEqual(['plain.service', 'single.service']);
    expect(d.waiting).toEqual(['m1', 'm2']);
    expect(d.newlyLost).toEqual([]);
    expect(d.wakeAt).toBe(5000);
  });

  it('after the grace window an absent machine is lost at once; ordinary units are free to move', () => {
    const d = decideAbsence({
      now: 6000,
      graceUntil: 5000,
      units,
      machines: onlyM1,
      schedule,
      lostAt: new Map(),
    });
    expect(d.newlyLost).toEqual(['m2']);
    expect(d.lostAt.get('m2')).toBe(6000);
    // StopOnDisconnect: held until lost + stop bound.
    expect([...d.hold]).toEqual(['single.service']);
    expect(d.wakeAt).toBe(16_000);
  });

  it('a StopOnDisconnect unit is released once its stop bound has passed since the loss', () => {
    const lostAt = new Map([['m2', 6000]]);
    const held = decideAbsence({ now: 15_999, graceUntil: 0, units, machines: onlyM1, schedule, lostAt });
    expect([...held.hold]).toEqual(['single.service']);
    expect(held.newlyLost).toEqual([]);
    const free = decideAbsence({ now: 16_000, graceUntil: 0, units, machines: onlyM1, schedule, lostAt });
    expect([...free.hold]).toEqual([]);
    expect(free.wakeAt).toBeNull();
  });

  it('a machine that is present again is forgotten', () => {
    const both = new Map([...onlyM1, ['m2', machine('m2')]]);
    const d = decideAbsence({
      now: 7000,
      graceUntil: 0,
      units,
      machines: both,
      schedule,
      lostAt: new Map([['m2', 6000]]),
    });
    expect(d.lostAt.size).toBe(0);
    expect(d.hold.size).toBe(0);
  });
});
