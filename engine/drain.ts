// Drain: a drained machine (machines/<id>/drain) takes no new non-global units, and its non-global units
// move elsewhere one at a time: the next one is released only after the previous one's replacement is
// active (or loaded, for a unit meant to be loaded) on its new machine. A released unit that fits nowhere
// else stays (plan.ts) and is reported as stuck (engine/reasons.ts) until the machines change.
// Design notes: docs/architecture.md, "engine/drain.ts".

import type { EngineState } from './store.js';

export interface DrainDeps {
  /** Has `unit`, at its new place `machineID`, reached its target (active, or loaded when loaded-only)? */
  settled(machineID: string, unit: string, desired: 'loaded' | 'launched'): Promise<boolean>;
  /** A replacement that is not active after this long no longer holds up the drain (default 2 min). */
  readonly settleTimeoutMs?: number;
  readonly now?: () => number;
  readonly onStuck?: (unit: string, machineID: string) => void;
}

interface Move {
  readonly unit: string;
  readonly since: number;
}

export class DrainController {
  /** drained machine -> the unit being moved off it. */
  private readonly moving = new Map<string, Move>();
  /** unit -> the drained machine it could not leave. */
  private readonly stuckOn = new Map<string, string>();
  /** The machines (and their drain flags) the stuck verdicts were made against. */
  private machinesKey = '';

  constructor(private readonly deps: DrainDeps) {}

  stuck(): ReadonlyMap<string, string> {
    return this.stuckOn;
  }

  /** Before a plan: the state with the units allowed to leave their drained machine now (if any). */
  async beforePlan(state: EngineState): Promise<EngineState> {
    const drained = [...state.machines.values()].filter((m) => m.drained).map((m) => m.id);
    const key = [...state.machines.values()]
      .map((m) => `${m.id}${m.drained ? '!' : ''}`)
      .sort()
      .join(',');
    // New capacity (or less drain) may let stuck units go: try them again.
    if (key !== this.machinesKey) this.stuckOn.clear();
    this.machinesKey = key;
    for (const id of this.moving.keys()) if (!drained.includes(id)) this.moving.delete(id);
    for (const [unit, id] of this.stuckOn) {
      if (!drained.includes(id) || !state.schedule.get(id)?.has(unit)) this.stuckOn.delete(unit);
    }
    const release = new Set<string>();
    for (const id of drained.sort()) {
      const next = await this.step(state, id);
      if (next !== undefined) release.add(next);
    }
    return release.size === 0 ? state : { ...state, release };
  }

  /** Is a drain still in progress (units to move or a move to wait for)? */
  active(state: EngineState): boolean {
    if (this.moving.size > 0) return true;
    for (const m of state.machines.values()) {
      if (m.drained && this.movable(state, m.id).length > 0) return true;
    }
    return false;
  }

  private movable(state: EngineState, machineID: string): string[] {
    const entries = state.schedule.get(machineID);
    if (!entries) return [];
    const out: string[] = [];
    for (const [unit, rec] of entries) {
      const u = state.units.get(unit);
      if (rec.global || rec.run !== undefined || !u || u.requirements.schedule) continue;
      if (u.desiredState === 'inactive' || this.stuckOn.has(unit)) continue;
      out.push(unit);
    }
    return out.sort();
  }

  /** Advances the drain of one machine; returns the unit to release now, if any. */
  private async step(state: EngineState, machineID: string): Promise<string | undefined> {
    const mv = this.moving.get(machineID);
    if (mv) {
      const u = state.units.get(mv.unit);
      const now = [...state.schedule].filter(([, e]) => e.has(mv.unit)).map(([id]) => id);
      if (!u || u.desiredState === 'inactive' || now.length === 0) {
        this.moving.delete(machineID); // gone or unscheduled: nothing to wait for
      } else if (now.includes(machineID)) {
        this.moving.delete(machineID);
        this.stuckOn.set(mv.unit, machineID);
        this.deps.onStuck?.(mv.unit, machineID);
      } else {
        const target = now[0]!;
        const desired = u.desiredState === 'launched' ? 'launched' : 'loaded';
        const timedOut = (this.deps.now ?? Date.now)() - mv.since > (this.deps.settleTimeoutMs ?? 120_000);
        if (!timedOut && !(await this.deps.settled(target, mv.unit, desired))) return undefined;
        this.moving.delete(machineID);
      }
    }
    const next = this.movable(state, machineID)[0];
    if (next === undefined) return undefined;
    this.moving.set(machineID, { unit: next, since: (this.deps.now ?? Date.now)() });
    return next;
  }
}
