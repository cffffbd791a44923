// Cluster cron decisions, pure: which due ticks run (and where), which are recorded as missed, and
// which are skipped because the previous run is still active. The runtime (cron.ts) feeds them the
// ticks, the unit's active runs and the machines able to run it, and writes the result to etcd.

import type { ScheduleSpec } from '../../units/types.js';

export interface DueTick {
  /** Epoch ms of the tick. */
  readonly at: number;
  /** true: the tick passed while no engine could act on it (before this leadership began). */
  readonly overdue: boolean;
}

/**
 * Ticks in (cursor, now], each marked overdue when it passed more than `graceMs` before the current
 * leader took over: only then did no engine exist to act on it. A tick that falls inside this
 * leadership is never "missed", however late a busy engine gets to it — a loaded machine must not
 * turn on-time ticks into missed ones.
 */
export function classifyTicks(ticks: readonly number[], leaderSinceMs: number, graceMs: number): DueTick[] {
  return ticks.map((at) => ({ at, overdue: leaderSinceMs - at > graceMs }));
}

export interface ActiveRun {
  readonly tick: string;
  readonly machineID: string;
}

export type TickDecision =
  | { readonly kind: 'run'; readonly at: number; readonly machineID: string; readonly late: boolean }
  | {
      readonly kind: 'record';
      readonly at: number;
      readonly status: 'missed' | 'skipped';
      readonly reason: string;
    };

export interface DecideInput {
  readonly policy: Pick<ScheduleSpec, 'missed' | 'overlap'>;
  readonly due: readonly DueTick[];
  /** Runs of this unit still scheduled/running, from before these ticks. */
  readonly active: readonly ActiveRun[];
  /** Machines able to run the unit, preferred first. */
  readonly feasible: readonly string[];
  readonly tickISO: (ms: number) => string;
}

/**
 * One decision per due tick, in tick order.
 *  - Overdue ticks are recorded `missed`; with ScheduleMissed=run the newest overdue tick runs late
 *    instead, unless an on-time tick in the same batch supersedes it.
 *  - A tick to run while a run is active: ScheduleOverlap=skip records it `skipped`; allow places it on
 *    a machine not already running the unit (skipped when there is none).
 *  - No machine able to run the unit: `skipped`.
 */
export function decideTicks(input: DecideInput): TickDecision[] {
  const { policy, due } = input;
  const anyOnTime = due.some((d) => !d.overdue);
  let lateRun: number | undefined;
  if (policy.missed === 'run' && !anyOnTime) {
    for (const d of due) if (d.overdue) lateRun = d.at;
  }
  const active = [...input.active];
  const out: TickDecision[] = [];
  for (const d of due) {
    if (d.overdue && d.at !== lateRun) {
      out.push({ kind: 'record', at: d.at, status: 'missed', reason: 'no engine leader at tick time' });
      continue;
    }
    if (active.length > 0 && policy.overlap === 'skip') {
      const prev = active[active.length - 1]!;
      out.push({
        kind: 'record',
        at: d.at,
        status: 'skipped',
        reason: `overlap: run ${prev.tick} still active on ${prev.machineID}`,
      });
      continue;
    }
    const busy = new Set(active.map((a) => a.machineID));
    const machineID = input.feasible.find((m) => !busy.has(m));
    if (machineID === undefined) {
      out.push({
        kind: 'record',
        at: d.at,
        status: 'skipped',
        reason:
          input.feasible.length === 0
            ? 'no machine able to run the unit'
            : 'overlap: every machine able to run the unit is running it',
      });
      continue;
    }
    out.push({ kind: 'run', at: d.at, machineID, late: d.overdue });
    active.push({ tick: input.tickISO(d.at), machineID });
  }
  return out;
}
