// Builders for engine planner tests: units, machines, schedules, and "apply the plan" helpers.

import { applyChanges, planReconcile } from '../../engine/plan.js';
import type { EngineState, EngineUnit, ScheduleChange } from '../../engine/store.js';
import type { DesiredState, MachineState, Requirements, ScheduleRecord } from '../../units/types.js';

export const HASH_A = 'a'.repeat(40);
export const HASH_B = 'b'.repeat(40);

export type Schedule = ReadonlyMap<string, ReadonlyMap<string, ScheduleRecord>>;

export function req(partial: Partial<Requirements> = {}): Requirements {
  return {
    machineOf: [],
    metadata: {},
    conflicts: [],
    global: false,
    replaces: [],
    unknownKeys: [],
    ...partial,
  };
}

export function unit(
  name: string,
  requirements: Partial<Requirements> = {},
  desiredState: DesiredState = 'launched',
  hash = HASH_A,
): EngineUnit {
  return { name, hash, desiredState, requirements: req(requirements) };
}

/** A 32-hex-char machine ID whose first 8 characters are `short` repeated/padded. */
export function mid(short: string): string {
  return (short + '0'.repeat(32)).slice(0, 32);
}

/** Three machine IDs in ascending order, and the schedule records the planner tests use most. */
export const M1 = mid('11111111');
export const M2 = mid('22222222');
export const M3 = mid('33333333');
export const launched = { hash: HASH_A, desiredState: 'launched' } as const;
export const loaded = { hash: HASH_A, desiredState: 'loaded' } as const;

export function machine(id: string, metadata: Record<string, string> = {}): MachineState {
  return { id, publicIP: '10.0.0.1', metadata, version: '1.0.0', disableEngine: false };
}

export function scheduleOf(entries: Record<string, Record<string, ScheduleRecord>>): Schedule {
  return new Map(Object.entries(entries).map(([m, units]) => [m, new Map(Object.entries(units))]));
}

export function state(
  units: EngineUnit[],
  machines: MachineState[],
  schedule: Schedule = new Map(),
): EngineState {
  return {
    units: new Map(units.map((u) => [u.name, u])),
    machines: new Map(machines.map((m) => [m.id, m])),
    schedule,
  };
}

/** Plans once and applies the plan; returns both. */
export function step(s: EngineState): { plan: ScheduleChange[]; schedule: Schedule; next: EngineState } {
  const plan = planReconcile(s);
  const schedule = applyChanges(s.schedule, plan);
  return { plan, schedule, next: { ...s, schedule } };
}

/** unit -> sorted machine IDs it is scheduled on. */
export function where(schedule: Schedule): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [m, entries] of schedule) {
    for (const u of entries.keys()) out[u] = [...(out[u] ?? []), m];
  }
  for (const list of Object.values(out)) list.sort();
  return out;
}

/** machine -> number of units scheduled there. */
export function loads(schedule: Schedule): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [m, entries] of schedule) out[m] = entries.size;
  return out;
}
