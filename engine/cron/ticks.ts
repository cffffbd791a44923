// Tick computation for cluster cron, on croner's public next-run API (units/cron-expression.ts), so a
// unit's Schedule= means exactly what was validated at submit time, time zones and `L`/`#` included.

import { compileCron } from '../../units/cron-expression.js';
import type { ScheduleSpec } from '../../units/types.js';

export interface CronSchedule {
  readonly expression: string;
  readonly timezone?: string;
  /** Epoch ms of the first tick strictly after `afterMs` (Infinity when the expression never fires again). */
  next(afterMs: number): number;
}

/** Compiles an expression (throws croner's error for a bad one or an unknown time zone). */
export function compileSchedule(spec: Pick<ScheduleSpec, 'expression' | 'timezone'>): CronSchedule {
  const cron = compileCron(spec.expression, spec.timezone);
  return {
    expression: spec.expression,
    ...(spec.timezone ? { timezone: spec.timezone } : {}),
    next: (afterMs) => cron.next(afterMs) ?? Number.POSITIVE_INFINITY,
  };
}

/** ISO form of a tick, the key segment of its run record. Ticks are whole seconds. */
export const tickISO = (ms: number): string => new Date(ms).toISOString();

/**
 * Ticks in (fromMs, toMs], oldest first. At most `limit` of them: when there are more, the NEWEST
 * `limit` are returned and `more` is true (a long outage of a per-second schedule must not flood etcd).
 */
export function ticksBetween(
  sched: CronSchedule,
  fromMs: number,
  toMs: number,
  limit: number,
): { ticks: number[]; more: boolean } {
  const ticks: number[] = [];
  let more = false;
  for (let t = sched.next(fromMs); t <= toMs; t = sched.next(t)) {
    ticks.push(t);
    if (ticks.length > limit) {
      ticks.shift();
      more = true;
    }
  }
  return { ticks, more };
}
