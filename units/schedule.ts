// Cluster cron settings of a unit: `[X-Fleet] Schedule=`, `ScheduleTimezone=`, `ScheduleMissed=`,
// `ScheduleOverlap=`. Parsing is lenient (the engine must never crash on a stored unit); validation is
// strict and runs at submit time (fleetctl and the API both call validateOptions), with croner's own
// message for a bad expression so the user sees exactly what the cron parser objects to.

import { cronExpressionError } from './cron-expression.js';
import type { ScheduleSpec } from './types.js';

export const SCHEDULE_KEYS = ['Schedule', 'ScheduleTimezone', 'ScheduleMissed', 'ScheduleOverlap'] as const;

/** Last value of each Schedule* key, as written. */
export type ScheduleValues = Partial<Record<(typeof SCHEDULE_KEYS)[number], string>>;

/** The spec of a scheduled unit, or undefined when it has no (non-empty) Schedule=. */
export function scheduleSpecFrom(values: ScheduleValues): ScheduleSpec | undefined {
  const expression = values.Schedule?.trim();
  if (!expression) return undefined;
  const timezone = values.ScheduleTimezone?.trim();
  return {
    expression,
    ...(timezone ? { timezone } : {}),
    missed: values.ScheduleMissed?.trim().toLowerCase() === 'run' ? 'run' : 'skip',
    overlap: values.ScheduleOverlap?.trim().toLowerCase() === 'allow' ? 'allow' : 'skip',
  };
}

/** Is `tz` an IANA zone this Node knows? */
export function isKnownTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The first problem with the Schedule* settings (one line), or null. `global`: the unit is Global=. */
export function validateSchedule(values: ScheduleValues, global: boolean): string | null {
  const set = SCHEDULE_KEYS.filter((k) => values[k] !== undefined);
  if (set.length === 0) return null;
  const expression = values.Schedule?.trim() ?? '';
  if (expression === '') return `${set[0]} requires a non-empty Schedule= cron expression`;
  const why = cronExpressionError(expression);
  if (why !== null) return `invalid Schedule ${JSON.stringify(expression)}: ${why}`;
  if (global) return 'Schedule cannot be used with Global (a scheduled unit runs on one machine per tick)';
  const tz = values.ScheduleTimezone?.trim();
  if (values.ScheduleTimezone !== undefined && (!tz || !isKnownTimezone(tz))) {
    return `invalid ScheduleTimezone ${JSON.stringify(values.ScheduleTimezone)}: unknown time zone`;
  }
  const missed = values.ScheduleMissed?.trim().toLowerCase();
  if (missed !== undefined && missed !== 'run' && missed !== 'skip') {
    return `invalid ScheduleMissed ${JSON.stringify(values.ScheduleMissed)}: expected run or skip`;
  }
  const overlap = values.ScheduleOverlap?.trim().toLowerCase();
  if (overlap !== undefined && overlap !== 'skip' && overlap !== 'allow') {
    return `invalid ScheduleOverlap ${JSON.stringify(values.ScheduleOverlap)}: expected skip or allow`;
  }
  return null;
}
