// Tick computation for cluster cron, on node-cron's own expression matcher (so a unit's Schedule= means
// exactly what node-cron's validateDetailed accepted at submit time, time zones and `L`/`#` included).
//
// node-cron 4 exposes "next run" only relative to the current time (getNextRuns), but the engine needs
// "next tick after T" for arbitrary T (catching up after a leader failover). The task's matcher has
// exactly that (getNextMatch); it is not in node-cron's typings, so it is reached through a narrow
// structural type and checked at compile time of every schedule: a node-cron upgrade that drops it
// fails loudly here (and in test/unit/cron-ticks.test.ts), never silently.

import { createTask, setLogger } from 'node-cron';
import type { Logger } from '../../units/log.js';
import type { ScheduleSpec } from '../../units/types.js';

export interface CronSchedule {
  readonly expression: string;
  readonly timezone?: string;
  /** Epoch ms of the first tick strictly after `afterMs`. */
  next(afterMs: number): number;
}

interface MatcherLike {
  getNextMatch(date: Date): Date;
}

/** Compiles an expression (throws node-cron's error for a bad one or an unknown time zone). */
export function compileSchedule(spec: Pick<ScheduleSpec, 'expression' | 'timezone'>): CronSchedule {
  const task = createTask(spec.expression, () => undefined, spec.timezone ? { timezone: spec.timezone } : {});
  // createTask registers the task (stopped) in node-cron's global registry: take the matcher, drop the task.
  const matcher = (task as unknown as { timeMatcher?: MatcherLike }).timeMatcher;
  void task.destroy();
  if (!matcher || typeof matcher.getNextMatch !== 'function') {
    throw new Error('node-cron no longer exposes its time matcher; cluster cron needs node-cron 4.6.x');
  }
  // Fail now for a bad time zone rather than at the first tick.
  matcher.getNextMatch(new Date(0));
  return {
    expression: spec.expression,
    ...(spec.timezone ? { timezone: spec.timezone } : {}),
    next: (afterMs) => matcher.getNextMatch(new Date(afterMs)).getTime(),
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

let loggerInstalled = false;

/** Routes node-cron's console output (coloured warnings) through pino. Process-wide; idempotent. */
export function routeNodeCronLogs(log: Logger): void {
  if (loggerInstalled) return;
  loggerInstalled = true;
  const text = (m: string | Error): string => (m instanceof Error ? m.message : m);
  setLogger({
    info: (m) => log.info({ src: 'node-cron' }, m),
    warn: (m) => log.warn({ src: 'node-cron' }, m),
    error: (m, err) => log.error({ src: 'node-cron', err: err ? String(err) : undefined }, text(m)),
    debug: (m, err) => log.debug({ src: 'node-cron', err: err ? String(err) : undefined }, text(m)),
  });
}
