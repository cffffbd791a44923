// Cluster cron runtime: while this machine is the engine leader, fire every scheduled unit
// ([X-Fleet] Schedule=) once per tick on one feasible machine; the writes are registry/cron-store.ts's.
// How a tick is decided exactly once across failovers: docs/architecture.md.

import type { Namespace } from 'etcd3';
import { type CronStore, createCronStore, type TickWrite } from '../../registry/cron-store.js';
import { createEngineStore } from '../../registry/engine-store.js';
import { errorMessage as message } from '../../units/common.js';
import { createLogger, type Logger } from '../../units/log.js';
import { isActiveRun, isFinishedRun, type RunRecord } from '../../units/runs.js';
import { followLeadership } from '../follow-leader.js';
import type { LeaderElection } from '../leader.js';
import {
  applyStoreEvents,
  type EngineState,
  type EngineStore,
  type EngineUnit,
  type LeaderGuard,
  type StoreWatch,
} from '../store.js';
import { machineFeasibility } from './feasibility.js';
import { type ActiveRun, classifyTicks, decideTicks, type TickDecision } from './policy.js';
import { type CronSchedule, compileSchedule, tickISO, ticksBetween } from './ticks.js';

export interface CronOptions {
  /** Client namespaced to the registry prefix. */
  readonly ns: Namespace;
  readonly leader: LeaderElection;
  readonly log?: Logger;
  /** Own store (snapshot + watch of jobs, machines, schedule); default createEngineStore(ns, log). */
  readonly store?: EngineStore;
  /** Run records and their writes; default createCronStore(ns). */
  readonly runs?: CronStore;
  /** How often active runs are checked for completion (and the longest sleep between passes). */
  readonly pollIntervalMs?: number;
  /** A tick acted on within this long after its time is on time; later it counts as missed. */
  readonly graceMs?: number;
  /** Run records kept per unit (finished/missed/skipped ones beyond this are deleted, oldest first). */
  readonly historyLimit?: number;
  /** At most this many missed ticks are recorded per unit after an outage (the newest ones). */
  readonly maxCatchUp?: number;
  /** Ticks older than this are never caught up (bounds the work after a long outage). */
  readonly maxLookbackMs?: number;
  readonly now?: () => number;
}

export interface Cron {
  stop(): Promise<void>;
}

export function startCron(opts: CronOptions): Cron {
  const log = opts.log ?? createLogger('cron');
  const runs = opts.runs ?? createCronStore(opts.ns);
  return followLeadership(opts.leader, {
    start: (guard) => {
      const session = new CronSession(opts, runs, log, guard);
      session.begin();
      return session;
    },
  });
}

interface UnitCron {
  /** Expression + time zone the schedule was compiled for. */
  readonly key: string;
  readonly sched: CronSchedule | null;
  /** Every tick up to here is decided. */
  cursor: number;
  readonly active: Map<string, ActiveRun>;
}

class CronSession {
  private readonly store: EngineStore;
  private readonly now: () => number;
  private readonly pollMs: number;
  private readonly graceMs: number;
  /** When this leadership began: ticks before it (minus the grace) passed without a leader. */
  private readonly since: number;
  private state: EngineState | null = null;
  private watch: StoreWatch | null = null;
  private readonly units = new Map<string, UnitCron>();
  private readonly badSchedules = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private ended = false;

  constructor(
    private readonly opts: CronOptions,
    private readonly runs: CronStore,
    private readonly log: Logger,
    private readonly guard: LeaderGuard,
  ) {
    this.store = opts.store ?? createEngineStore(opts.ns, log);
    this.now = opts.now ?? Date.now;
    this.pollMs = opts.pollIntervalMs ?? 1000;
    this.graceMs = opts.graceMs ?? 1000;
    this.since = this.now();
  }

  begin(): void {
    this.running = this.start().finally(() => {
      this.running = null;
    });
  }

  async end(): Promise<void> {
    this.ended = true;
    clearTimeout(this.timer);
    const w = this.watch;
    this.watch = null;
    await w?.stop();
    if (this.running) await this.running.catch(() => undefined);
  }

  private isLeader(): boolean {
    return !this.ended && this.opts.leader.isLeader();
  }

  private async start(): Promise<void> {
    try {
      const snap = await this.store.loadSnapshot();
      if (this.ended) return;
      this.state = snap.state;
      this.watch = this.store.watch(snap.revision, {
        onEvents: (events) => {
          if (this.state) this.state = applyStoreEvents(this.state, events);
        },
        onReset: (s) => {
          this.state = s.state;
        },
      });
    } catch (err) {
      this.log.warn({ err: message(err) }, 'cron: loading the cluster state failed; retrying');
      this.arm(this.pollMs);
      return;
    }
    await this.pass();
  }

  /** Runs the next pass after `ms` (never two passes at once). */
  private arm(ms: number): void {
    if (this.ended) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        if (this.running) return this.arm(50);
        this.running = (this.state ? this.pass() : this.start()).finally(() => {
          this.running = null;
        });
      },
      Math.max(0, ms),
    );
  }

  private async pass(): Promise<void> {
    const state = this.state;
    if (!state || !this.isLeader()) return this.arm(this.pollMs);
    try {
      const scheduled = [...state.units.values()].filter((u) => u.requirements.schedule !== undefined);
      const names = new Set(scheduled.map((u) => u.name));
      for (const name of this.units.keys()) if (!names.has(name)) await this.finishGone(name);
      const feasible = machineFeasibility(state);
      for (const u of scheduled.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (!this.isLeader()) break;
        await this.tickUnit(u, feasible);
      }
      await this.checkActiveRuns();
    } catch (err) {
      this.log.warn({ err: message(err) }, 'cron pass failed; retrying');
    }
    this.arm(this.untilNextTick());
  }

  private untilNextTick(): number {
    const now = this.now();
    let next = now + this.pollMs;
    for (const uc of this.units.values()) {
      if (!uc.sched) continue;
      next = Math.min(next, uc.sched.next(Math.max(uc.cursor, now - 1)));
    }
    return next - now;
  }

  private async unitCron(u: EngineUnit): Promise<UnitCron | null> {
    const spec = u.requirements.schedule;
    if (!spec) return null;
    const key = `${spec.expression}\u0000${spec.timezone ?? ''}`;
    const had = this.units.get(u.name);
    if (had && had.key === key) return had;
    let sched: CronSchedule | null = null;
    try {
      sched = compileSchedule(spec);
    } catch (err) {
      if (!this.badSchedules.has(u.name)) {
        this.badSchedules.add(u.name);
        this.log.error(
          { unit: u.name, err: message(err) },
          `unit ${u.name} has an unusable Schedule; not run`,
        );
      }
    }
    // Start after the newest decided tick: whatever an earlier leader decided stays decided.
    const runs = had ? [] : await this.runs.listRuns(u.name, this.opts.historyLimit ?? 100);
    const newest = runs[0];
    const now = this.now();
    const lookback = now - (this.opts.maxLookbackMs ?? 24 * 3600_000);
    const uc: UnitCron = {
      key,
      sched,
      cursor: had ? now : newest ? Math.max(Date.parse(newest.tick), lookback) : now - this.graceMs,
      active: had?.active ?? new Map(),
    };
    for (const r of runs) {
      if (isActiveRun(r) && r.machineID) uc.active.set(r.tick, { tick: r.tick, machineID: r.machineID });
    }
    this.units.set(u.name, uc);
    return uc;
  }

  private async tickUnit(u: EngineUnit, feasible: (unit: string) => string[]): Promise<void> {
    const uc = await this.unitCron(u);
    const spec = u.requirements.schedule;
    if (!uc?.sched || !spec) return;
    const now = this.now();
    if (u.desiredState !== 'launched') {
      // Paused (loaded/inactive): ticks pass unrecorded; a restart begins with the next tick.
      uc.cursor = now;
      return;
    }
    const { ticks, more } = ticksBetween(uc.sched, uc.cursor, now, this.opts.maxCatchUp ?? 100);
    if (ticks.length === 0) return;
    if (more) this.log.warn({ unit: u.name }, `cron: more missed ticks of ${u.name} than recorded`);
    const decisions = decideTicks({
      policy: spec,
      due: classifyTicks(ticks, this.since, this.graceMs),
      active: [...uc.active.values()],
      feasible: feasible(u.name),
      tickISO,
    });
    for (const d of decisions) {
      if (!this.isLeader()) return;
      const written = await this.record(u, d);
      if (written === 'not-leader') return;
      uc.cursor = d.at;
      if (written === 'exists') {
        // Decided by an earlier leader: adopt its outcome.
        const r = await this.runs.readRun(u.name, tickISO(d.at));
        if (r && isActiveRun(r) && r.machineID)
          uc.active.set(r.tick, { tick: r.tick, machineID: r.machineID });
      } else if (d.kind === 'run') {
        uc.active.set(tickISO(d.at), { tick: tickISO(d.at), machineID: d.machineID });
      }
    }
    await this.prune(u.name);
  }

  /** Writes one decision: run record (create-if-absent) + schedule entry, under the leader guard. */
  private async record(u: EngineUnit, d: TickDecision): Promise<TickWrite> {
    const tick = tickISO(d.at);
    const rec: RunRecord =
      d.kind === 'run'
        ? {
            unit: u.name,
            tick,
            status: 'scheduled',
            machineID: d.machineID,
            ...(d.late ? { late: true } : {}),
          }
        : { unit: u.name, tick, status: d.status, reason: d.reason };
    const placement =
      d.kind === 'run'
        ? { machineID: d.machineID, entry: { hash: u.hash, desiredState: 'launched' as const, run: tick } }
        : undefined;
    // A failed unit-exists guard reads as 'exists': the tick is passed over, and the unit's
    // disappearance reaches this loop through the watch.
    const written = await this.runs.recordTick(this.guard, rec, placement);
    if (written === 'written') {
      const what = d.kind === 'run' ? `run on ${d.machineID}${d.late ? ' (late)' : ''}` : d.status;
      this.log.info(
        { unit: u.name, tick, reason: d.kind === 'record' ? d.reason : undefined },
        `cron ${u.name} ${tick}: ${what}`,
      );
    } else if (written === 'not-leader') {
      this.log.warn({ unit: u.name, tick }, 'cron write rejected: not leader');
    }
    return written;
  }

  /** Deletes the schedule entries of finished runs; fails runs whose machine left the cluster. */
  private async checkActiveRuns(): Promise<void> {
    const state = this.state;
    if (!state) return;
    for (const [unit, uc] of this.units) {
      for (const run of [...uc.active.values()]) {
        if (!this.isLeader()) return;
        const r = await this.runs.readRun(unit, run.tick);
        const u = state.units.get(unit);
        if (!r || isFinishedRun(r) || !isActiveRun(r)) {
          if (await this.removeEntry(unit, run)) uc.active.delete(run.tick);
        } else if (!state.machines.has(run.machineID)) {
          await this.failRun(r, `machine ${run.machineID} left the cluster`);
          if (await this.removeEntry(unit, run)) uc.active.delete(run.tick);
        } else if (!u || u.desiredState === 'inactive') {
          await this.failRun(r, u ? 'cancelled: unit unloaded' : 'cancelled: unit destroyed');
          if (await this.removeEntry(unit, run)) uc.active.delete(run.tick);
        }
      }
    }
  }

  /** A unit no longer scheduled (destroyed, or Schedule= removed): cancel its active runs. */
  private async finishGone(unit: string): Promise<void> {
    const uc = this.units.get(unit);
    if (!uc) return;
    for (const run of [...uc.active.values()]) {
      const r = await this.runs.readRun(unit, run.tick);
      if (r && isActiveRun(r)) await this.failRun(r, 'cancelled: unit no longer scheduled');
      if (await this.removeEntry(unit, run)) uc.active.delete(run.tick);
    }
    if (uc.active.size === 0) this.units.delete(unit);
  }

  private async failRun(r: RunRecord, reason: string): Promise<void> {
    const next: RunRecord = { ...r, status: 'failed', reason, endedAt: new Date(this.now()).toISOString() };
    await this.runs.updateRun(this.guard, r, next);
  }

  /** Deletes `schedule/<machine>/<unit>` if it still is this run's entry. True when it is gone. */
  private removeEntry(unit: string, run: ActiveRun): Promise<boolean> {
    return this.runs.removeRunEntry(this.guard, unit, run.machineID, run.tick);
  }

  /** Keeps the newest `historyLimit` records (and every active one). */
  private prune(unit: string): Promise<void> {
    return this.runs.pruneRuns(unit, this.opts.historyLimit ?? 100);
  }
}
