// The engine runtime: while this machine is the (provable) leader, keep an in-memory copy of jobs,
// machines and the schedule, fed by etcd watch events, and turn every change into one plan (the pure
// planReconcile) written as leader-guarded transactions. A periodic pass (engine_reconcile_interval)
// catches anything time-based, and a periodic full reload guards against any drift.
// Design notes: docs/architecture.md, "engine/engine.ts".

import { setTimeout as sleep } from 'node:timers/promises';
import { NotLeaderError } from '../registry/types.js';
import type { Logger } from '../units/log.js';
import { decideAbsence } from './absence.js';
import { followLeadership } from './follow-leader.js';
import type { LeaderElection } from './leader.js';
import type { EngineOps } from './ops.js';
import { planSteps, sameRecord } from './plan.js';
import { runInSlices } from './plan-steps.js';
import {
  applyStoreEvents,
  changesAsEvents,
  type EngineState,
  type EngineStore,
  type LeaderGuard,
  type ScheduleChange,
  type Snapshot,
  StaleScheduleError,
  type StoreEvent,
  type StoreWatch,
} from './store.js';

export interface EngineDeps {
  readonly store: EngineStore;
  readonly leader: LeaderElection;
  readonly log: Logger;
  /** engine_reconcile_interval: a full planning pass at least this often (fleet: 2 s). */
  readonly reconcileIntervalMs: number;
  readonly machineID: string;
  /** Events arriving within this window are planned together (one plan, few transactions). */
  readonly debounceMs?: number;
  /** Re-read everything from etcd this often, as a safety net against a drifting copy. */
  readonly fullReloadIntervalMs?: number;
  /**
   * agent_ttl: after being elected, and after its etcd came back, the leader waits this long for
   * machines to register again before treating absent ones as lost (engine/absence.ts). Default 0.
   */
  readonly agentTtlMs?: number;
  /** Monotonic clock (ms) for that wait and for StopOnDisconnect holds; performance.now by default. */
  readonly now?: () => number;
  /** Called after each plan's writes committed (benchmarks and tests observe placements here). */
  readonly onCommitted?: (changes: readonly ScheduleChange[], revision: string) => void;
  /** Drain and placement reasons (engine/ops.ts); absent in benchmarks. */
  readonly ops?: EngineOps;
  /** Observes each plan's duration in seconds and the number of changes (metrics). */
  readonly onPlanned?: (seconds: number, changes: readonly ScheduleChange[]) => void;
}

export interface Engine {
  stop(): Promise<void>;
}

export function startEngine(deps: EngineDeps): Engine {
  return followLeadership(deps.leader, {
    start: (guard) => {
      const session = new LeaderSession(deps, guard);
      session.begin();
      return session;
    },
    deposed: (reason, session) => {
      if (session) deps.log.warn({ machine: deps.machineID, reason }, 'engine stops acting: not leader');
    },
    reconnected: (session) => session.startGrace(),
  });
}

/** Everything that exists only while this machine leads: the copy of the cluster, watch and timers. */
class LeaderSession {
  private state: EngineState | null = null;
  private watch: StoreWatch | null = null;
  /**
   * Watch events not yet applied to `state`: applied together when a pass starts (or before our own
   * writes are applied). Applying each watch batch at once copied the whole unit map per batch, O(n²)
   * while 100k units were submitted (32 s of the engine's CPU in the 100k benchmark).
   */
  private pending: StoreEvent[] = [];
  /** Revision of this engine's newest committed write: schedule events up to it are our own. */
  private lastWriteRevision = 0n;
  private needReload = true;
  private ended = false;
  private running: Promise<void> | null = null;
  private rerun = false;
  /** The last state planned with nothing to do: planning it again would find nothing either. */
  private settled: EngineState | null = null;
  /** Schedule writes being committed, by `machineID unit`: their watch events are our own. */
  private inFlight = new Map<string, ScheduleChange>();
  /** Duration of the last plan (ms): reruns wait at least this long (see the file comment). */
  private lastPlanMs = 0;
  private debounceTimer: NodeJS.Timeout | undefined;
  private passTimer: NodeJS.Timeout | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  /** Absent machines are not lost before this (monotonic ms); see engine/absence.ts. */
  private graceUntil = 0;
  private lostAt: ReadonlyMap<string, number> = new Map();
  /** The hold the settled state was planned with. */
  private settledHold = '';
  private waitingLogged = '';

  constructor(
    private readonly deps: EngineDeps,
    private readonly guard: LeaderGuard,
  ) {
    this.now = deps.now ?? (() => performance.now());
  }

  /** Waits one agent_ttl before treating absent machines as lost (election, etcd back). */
  startGrace(): void {
    const ttl = this.deps.agentTtlMs ?? 0;
    if (ttl <= 0 || this.ended) return;
    this.graceUntil = this.now() + ttl;
    this.lostAt = new Map();
    this.deps.log.info(
      { graceMs: ttl },
      'waiting one agent_ttl for machines to register before treating absent ones as lost',
    );
    this.kick();
  }

  begin(): void {
    this.deps.ops?.reset();
    this.startGrace();
    this.passTimer = setInterval(() => this.kick(), this.deps.reconcileIntervalMs);
    this.reloadTimer = setInterval(() => {
      this.needReload = true;
      this.kick();
    }, this.deps.fullReloadIntervalMs ?? 60_000);
    this.kick();
  }

  async end(): Promise<void> {
    this.ended = true;
    clearInterval(this.passTimer);
    clearInterval(this.reloadTimer);
    clearTimeout(this.debounceTimer);
    clearTimeout(this.wakeTimer);
    const w = this.watch;
    this.watch = null;
    if (w) await w.stop();
    if (this.running) await this.running;
  }

  private schedulePass(): void {
    if (this.ended || this.debounceTimer) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      this.kick();
    }, this.deps.debounceMs ?? 30);
  }

  /** Runs a pass now, or right after the one in progress. */
  private kick(): void {
    if (this.ended) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  private async loop(): Promise<void> {
    for (;;) {
      this.rerun = false;
      await this.pass();
      if (!this.rerun || this.ended) return;
      const pause = Math.min(this.lastPlanMs, MAX_PACING_MS);
      if (pause > 0) await sleep(pause);
      if (this.ended) return;
    }
  }

  private isLeader(): boolean {
    return !this.ended && this.deps.leader.isLeader();
  }

  private async pass(): Promise<void> {
    const { log } = this.deps;
    if (!this.isLeader()) return;
    try {
      if (this.needReload || !this.state) await this.reload();
      this.applyPending();
      const current = this.state;
      if (!current || !this.isLeader()) return;
      const hold = this.decideHold(current);
      const holdKey = [...hold].sort().join(' ');
      // Drain may release units off drained machines (a new state object) even when nothing else changed.
      const drain = this.deps.ops ? await this.deps.ops.beforePlan(current) : current;
      if (drain === current && current === this.settled && holdKey === this.settledHold) return;
      const state = hold.size > 0 ? { ...drain, hold } : drain;
      const planStarted = performance.now();
      // In slices: a big plan must not hold back the lease keepalives (engine/plan-steps.ts).
      const plan = await runInSlices(planSteps(state), PLAN_SLICE_MS);
      const changes = plan.changes;
      this.lastPlanMs = performance.now() - planStarted;
      this.deps.onPlanned?.(this.lastPlanMs / 1000, changes);
      // Reasons are advice: failing to record them never holds up the schedule.
      await this.deps.ops
        ?.afterPlan(state, plan, this.guard)
        .catch((err) => log.warn({ err: String(err) }, 'recording placement reasons failed'));
      if (changes.length === 0) {
        this.settled = current;
        this.settledHold = holdKey;
        return;
      }
      for (const c of changes) this.inFlight.set(inFlightKey(c.machineID, c.unit), c);
      let revision: string | null;
      try {
        revision = await this.deps.store.applyChanges(changes, this.guard, {
          current: state.schedule,
          present: state.machines,
          stillLeader: () => this.isLeader(),
        });
      } finally {
        this.inFlight.clear();
      }
      if (revision !== null) {
        const rev = BigInt(revision);
        // Our writes are in etcd: apply them to the latest copy (events may have arrived meanwhile).
        this.applyPending();
        if (this.state) this.state = applyStoreEvents(this.state, changesAsEvents(changes, rev));
        if (rev > this.lastWriteRevision) this.lastWriteRevision = rev;
        this.deps.onCommitted?.(changes, revision);
      }
      logChanges(log, changes);
    } catch (err) {
      // Whatever failed, some transactions may have committed: the copy is no longer trusted.
      this.needReload = true;
      if (err instanceof NotLeaderError) {
        log.warn({ err: err.message }, 'schedule write rejected: not leader');
      } else if (err instanceof StaleScheduleError) {
        log.warn('schedule changed behind the engine; reloading');
        this.schedulePass();
      } else {
        log.warn({ err: String(err) }, 'engine pass failed; retrying at the next pass');
      }
    }
  }

  /** Units to hold in place now, and a wake-up for when a hold ends (engine/absence.ts). */
  private decideHold(state: EngineState): ReadonlySet<string> {
    const d = decideAbsence({
      now: this.now(),
      graceUntil: this.graceUntil,
      units: state.units,
      machines: state.machines,
      schedule: state.schedule,
      lostAt: this.lostAt,
    });
    this.lostAt = d.lostAt;
    for (const m of d.newlyLost)
      this.deps.log.warn({ machine: m }, `Machine(${m}) lost: its lease expired; rescheduling its units`);
    const waiting = d.waiting.join(' ');
    if (waiting !== '' && waiting !== this.waitingLogged)
      this.deps.log.warn(
        { machines: d.waiting },
        'machines absent from the registry; waiting for them to register again before moving their units',
      );
    this.waitingLogged = waiting;
    clearTimeout(this.wakeTimer);
    if (d.wakeAt !== null)
      this.wakeTimer = setTimeout(() => this.kick(), Math.max(0, d.wakeAt - this.now()) + 5);
    return d.hold;
  }

  private async reload(): Promise<void> {
    const old = this.watch;
    this.watch = null;
    if (old) await old.stop();
    const snap = await this.deps.store.loadSnapshot();
    if (this.ended) return;
    this.setState(snap);
    this.watch = this.deps.store.watch(snap.revision, {
      onEvents: (events) => this.onEvents(events),
      onReset: (s) => {
        this.setState(s);
        this.schedulePass();
      },
    });
  }

  private setState(snap: Snapshot): void {
    this.state = snap.state;
    this.pending = []; // all in the snapshot
    this.needReload = false;
    // Everything up to the snapshot revision is in the snapshot.
    const rev = BigInt(snap.revision);
    if (rev > this.lastWriteRevision) this.lastWriteRevision = rev;
  }

  private onEvents(events: StoreEvent[]): void {
    if (this.ended || !this.state) return;
    const fresh = events.filter(
      (e) => e.kind !== 'schedule' || (e.revision > this.lastWriteRevision && !this.isOwnWrite(e)),
    );
    if (fresh.length === 0) return;
    for (const e of fresh) this.pending.push(e);
    this.schedulePass();
  }

  private applyPending(): void {
    if (this.pending.length === 0 || !this.state) return;
    this.state = applyStoreEvents(this.state, this.pending);
    this.pending = [];
  }

  /** A schedule event that matches a write of the pass in progress (applied when that pass commits). */
  private isOwnWrite(e: Extract<StoreEvent, { kind: 'schedule' }>): boolean {
    const c = this.inFlight.get(inFlightKey(e.machineID, e.unit));
    if (!c) return false;
    return c.kind === 'put' ? e.record !== null && sameRecord(e.record, c.record) : e.record === null;
  }
}

/** Longest the planner runs before the event loop gets a turn (keepalives every ttl/3 ≥ 333 ms). */
const PLAN_SLICE_MS = 20;

/** Longest pause between passes while events keep arriving (a 50k-unit plan takes ~0.5 s). */
const MAX_PACING_MS = 1000;

const inFlightKey = (machineID: string, unit: string): string => `${machineID} ${unit}`;

function logChanges(log: Logger, changes: readonly ScheduleChange[]): void {
  for (const c of changes) {
    if (c.kind === 'put') {
      log.info(
        { unit: c.unit, machine: c.machineID, reason: c.reason },
        `Scheduled Unit(${c.unit}) to Machine(${c.machineID})`,
      );
    } else {
      log.info(
        { unit: c.unit, machine: c.machineID, reason: c.reason },
        `Unscheduled Unit(${c.unit}) from Machine(${c.machineID})`,
      );
    }
  }
}
