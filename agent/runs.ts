// Cluster cron on the agent: a schedule entry carrying `run: <tick>` is one run of a scheduled unit.
// The agent starts the unit once per distinct run (also when the entry of the previous run is replaced
// without the unit ever being unloaded), watches it finish, and reports into `runs/<unit>/<tick>`.
// Design notes: docs/architecture.md, "agent/runs.ts".

import type { RunReporter } from '../registry/runs.js';
import type { Logger } from '../units/log.js';
import { isActiveRun, type RunRecord } from '../units/runs.js';
import type { ScheduleRecord } from '../units/types.js';
import type { LoadedUnit, TaskFailure } from './execute.js';
import type { AgentTask } from './plan.js';
import type { SystemdDriver, SystemdRunResult } from './systemd/driver.js';

/** Everything but a finished unit: the run is still going. */
const GOING = new Set(['active', 'activating', 'deactivating', 'reloading']);

interface Tracked {
  readonly tick: string;
  /** Epoch ms the start was issued (0: not started by this agent, e.g. adopted as already done). */
  readonly issuedAt: number;
  reported: 'none' | 'running' | 'done';
}

export interface RunTrackerOptions {
  readonly machineID: string;
  readonly driver: SystemdDriver;
  readonly reporter: RunReporter;
  readonly log: Logger;
  /** A run whose main process never started within this long is reported failed (default 5 min). */
  readonly startTimeoutMs?: number;
  readonly now?: () => number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Pure: start tasks for units whose schedule entry names a run this agent has not started yet while the
 * unit stays launched (the planner sees no change there: same hash, same desired state).
 */
export function runStartTasks(
  schedule: ReadonlyMap<string, ScheduleRecord>,
  loaded: ReadonlyMap<string, LoadedUnit>,
  startedRuns: ReadonlyMap<string, string>,
  planned: readonly AgentTask[],
): AgentTask[] {
  const out: AgentTask[] = [];
  for (const [unit, rec] of schedule) {
    if (rec.run === undefined || rec.desiredState !== 'launched') continue;
    if (loaded.get(unit)?.state !== 'launched' || loaded.get(unit)?.hash !== rec.hash) continue;
    if (startedRuns.get(unit) === rec.run) continue;
    if (planned.some((t) => t.kind !== 'daemon-reload' && t.unit === unit)) continue;
    out.push({ kind: 'start', unit, reason: `cron run ${rec.run}` });
  }
  return out;
}

export class RunTracker {
  private readonly tracked = new Map<string, Tracked>();
  private readonly now: () => number;

  constructor(private readonly opts: RunTrackerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The planner's tasks plus run starts, minus starts of runs that already ran or are running. */
  async adjustTasks(
    schedule: ReadonlyMap<string, ScheduleRecord>,
    loaded: ReadonlyMap<string, LoadedUnit>,
    planned: readonly AgentTask[],
  ): Promise<AgentTask[]> {
    const started = new Map([...this.tracked].map(([u, t]) => [u, t.tick]));
    const tasks = [...planned, ...runStartTasks(schedule, loaded, started, planned)];
    const out: AgentTask[] = [];
    for (const t of tasks) {
      const run = t.kind === 'start' ? schedule.get(t.unit)?.run : undefined;
      if (t.kind !== 'start' || run === undefined) {
        out.push(t);
        continue;
      }
      if (this.tracked.get(t.unit)?.tick === run) continue; // started (or adopted) already
      const rec = await this.opts.reporter.read(t.unit, run).catch(() => null);
      if (rec && rec.status !== 'scheduled') {
        // Ran before this agent (re)started, or decided otherwise: adopt, do not run it again.
        this.tracked.set(t.unit, { tick: run, issuedAt: 0, reported: isActiveRun(rec) ? 'none' : 'done' });
        continue;
      }
      out.push(t);
    }
    return out;
  }

  /** Notes the runs whose start was just issued successfully. */
  afterExecute(
    schedule: ReadonlyMap<string, ScheduleRecord>,
    tasks: readonly AgentTask[],
    failures: readonly TaskFailure[],
  ): void {
    for (const t of tasks) {
      if (t.kind !== 'start') continue;
      const run = schedule.get(t.unit)?.run;
      if (run === undefined || failures.some((f) => f.task === t)) continue;
      this.tracked.set(t.unit, { tick: run, issuedAt: this.now(), reported: 'none' });
    }
  }

  /** Reports progress of every tracked run; forgets runs whose schedule entry is gone. */
  async poll(schedule: ReadonlyMap<string, ScheduleRecord>): Promise<void> {
    for (const [unit, t] of [...this.tracked]) {
      if (schedule.get(unit)?.run !== t.tick) {
        if (t.reported === 'done' || t.issuedAt === 0) this.tracked.delete(unit);
        else await this.check(unit, t); // entry removed mid-run (cancelled): still report what happened
        if (t.reported === 'done') this.tracked.delete(unit);
        continue;
      }
      if (t.reported === 'done' || t.issuedAt === 0) continue;
      await this.check(unit, t);
    }
  }

  private async check(unit: string, t: Tracked): Promise<void> {
    const { driver, reporter, machineID, log } = this.opts;
    let st: SystemdRunResult;
    if (driver.runStatus) {
      st = await driver.runStatus(unit);
    } else {
      const s = (await driver.unitStates([unit])).get(unit);
      const active = s?.active ?? 'inactive';
      st = {
        active,
        result: active === 'failed' ? 'failed' : 'success',
        execMainStatus: null,
        startedAt: t.issuedAt,
        exitedAt: null,
      };
    }
    const now = this.now();
    // systemd timestamps have second resolution here; a start within a second before the issue counts.
    const startedThisRun = st.startedAt !== null && st.startedAt >= t.issuedAt - 1000;
    let update: Partial<RunRecord> | null = null;
    if (GOING.has(st.active)) {
      if (t.reported === 'none') {
        update = {
          status: 'running',
          startedAt: iso(startedThisRun && st.startedAt ? st.startedAt : t.issuedAt),
        };
      }
    } else if (startedThisRun && st.startedAt !== null) {
      update = {
        status: st.result === 'success' && (st.execMainStatus ?? 0) === 0 ? 'succeeded' : 'failed',
        result: st.result,
        ...(st.execMainStatus !== null ? { exitStatus: st.execMainStatus } : {}),
        startedAt: iso(st.startedAt),
        endedAt: iso(st.exitedAt ?? now),
      };
    } else if (now - t.issuedAt > (this.opts.startTimeoutMs ?? 300_000)) {
      update = { status: 'failed', result: st.result, reason: 'the unit never started', endedAt: iso(now) };
    }
    if (!update) return;
    const done = update.status !== 'running';
    try {
      await reporter.report(unit, t.tick, machineID, update);
      t.reported = done ? 'done' : 'running';
      log.info(
        { machine: machineID, unit, tick: t.tick, status: update.status },
        `cron run of ${unit}: ${update.status}`,
      );
    } catch (err) {
      log.warn({ machine: machineID, unit, err: String(err) }, 'reporting a cron run failed; will retry');
    }
  }
}
