// Running the planner in steps (plan.ts planSteps): the planner is a generator that pauses every few
// units. runToEnd runs it at once (pure callers: tests, preview, cron); runInSlices lets the event loop
// run between slices, so that a plan over 100k units (seconds of CPU) does not hold back the engine's
// lease keepalives and watch events: an engine that blocked its event loop longer than its lease can
// prove fenced itself (engine/leader.ts), over and over, and never finished placing a big cluster.

import { setImmediate as nextTurn } from 'node:timers/promises';

/** A computation that pauses (yields) between pieces of work and returns T. */
export type PlanSteps<T> = Generator<void, T, void>;

/** Pauses per unit of loop work: a placement may scan every machine, a bookkeeping step is cheap. */
export const PLACE_STEP = 64;
export const CHEAP_STEP = 4096;

export function runToEnd<T>(steps: PlanSteps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * Runs the steps, giving the event loop a turn (timers, then I/O) whenever `sliceMs` of work have
 * passed since the last one. The result is runToEnd's: only when the work runs changes.
 */
export async function runInSlices<T>(steps: PlanSteps<T>, sliceMs: number): Promise<T> {
  let sliceStart = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() - sliceStart >= sliceMs) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
}
