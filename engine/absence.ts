// When the engine treats a machine that is absent from the registry (its lease is gone) as lost, and
// which units it must not place elsewhere yet. Pure: the runtime passes the clock and keeps `lostAt`.
// Design notes: docs/architecture.md, "engine/absence.ts".
import type { ScheduleRecord } from '../units/types.js';
import type { EngineUnit } from './store.js';

export interface AbsenceInput {
  /** Monotonic ms. */
  readonly now: number;
  /** End of the current grace window (monotonic ms); absent machines are not lost before it. */
  readonly graceUntil: number;
  readonly units: ReadonlyMap<string, EngineUnit>;
  readonly machines: ReadonlyMap<string, unknown>;
  readonly schedule: ReadonlyMap<string, ReadonlyMap<string, ScheduleRecord>>;
  /** When each absent machine was found lost (previous result). */
  readonly lostAt: ReadonlyMap<string, number>;
}

export interface AbsenceDecision {
  /** Units not to be placed anywhere now (EngineState.hold). */
  readonly hold: ReadonlySet<string>;
  readonly lostAt: ReadonlyMap<string, number>;
  /** Machines found lost in this call (to log once). */
  readonly newlyLost: readonly string[];
  /** Absent machines waiting for the grace window to end. */
  readonly waiting: readonly string[];
  /** When a hold ends next (monotonic ms): plan again then. */
  readonly wakeAt: number | null;
}

export function decideAbsence(input: AbsenceInput): AbsenceDecision {
  const hold = new Set<string>();
  const lostAt = new Map<string, number>();
  const newlyLost: string[] = [];
  const waiting: string[] = [];
  let wakeAt: number | null = null;
  const wake = (t: number) => {
    if (wakeAt === null || t < wakeAt) wakeAt = t;
  };
  for (const [machineID, entries] of input.schedule) {
    if (input.machines.has(machineID) || entries.size === 0) continue;
    if (input.now < input.graceUntil) {
      for (const unit of entries.keys()) hold.add(unit);
      waiting.push(machineID);
      wake(input.graceUntil);
      continue;
    }
    let at = input.lostAt.get(machineID);
    if (at === undefined) {
      at = input.now;
      newlyLost.push(machineID);
    }
    lostAt.set(machineID, at);
    for (const unit of entries.keys()) {
      const bound = input.units.get(unit)?.requirements.stopOnDisconnect?.stopTimeoutMs;
      if (bound === undefined) continue;
      const until = at + bound;
      if (input.now < until) {
        hold.add(unit);
        wake(until);
      }
    }
  }
  return { hold, lostAt, newlyLost: newlyLost.sort(), waiting: waiting.sort(), wakeAt };
}
