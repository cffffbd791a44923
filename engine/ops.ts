// What the engine does for operators around each plan (docs/operations.md): drains machines one unit at
// a time (drain.ts) and records why units cannot be placed (reasons.ts) in `unplaced/<unit>`, writing
// only what changed, under the leader guard, and logging each change once at info.

import type { Namespace } from 'etcd3';
import { unitStateKey } from '../registry/keys.js';
import { listUnplaced, type UnplacedRecord, writeUnplaced } from '../registry/ops-records.js';
import { decodeState } from '../registry/records.js';
import type { Logger } from '../units/log.js';
import { DrainController } from './drain.js';
import type { DetailedPlan } from './plan.js';
import { unplacedReasons } from './reasons.js';
import type { EngineState, LeaderGuard } from './store.js';

export interface EngineOpsOptions {
  readonly ns: Namespace;
  readonly log: Logger;
  readonly settleTimeoutMs?: number;
  /** Called with the number of units without a placement after each plan (metrics). */
  readonly onUnplaced?: (count: number) => void;
}

export class EngineOps {
  readonly drain: DrainController;
  /** What `unplaced/` holds, as this leader knows it; null until read (once per leadership). */
  private written: Map<string, UnplacedRecord> | null = null;

  constructor(private readonly opts: EngineOpsOptions) {
    this.drain = new DrainController({
      settled: (machineID, unit, desired) => this.unitSettled(machineID, unit, desired),
      ...(opts.settleTimeoutMs !== undefined ? { settleTimeoutMs: opts.settleTimeoutMs } : {}),
      onStuck: (unit, machineID) =>
        opts.log.warn(
          { unit, machine: machineID },
          `drain: Unit(${unit}) cannot leave Machine(${machineID})`,
        ),
    });
  }

  /** A new leadership: re-read what is recorded before writing. */
  reset(): void {
    this.written = null;
  }

  beforePlan(state: EngineState): Promise<EngineState> {
    return this.drain.beforePlan(state);
  }

  /** Records the reasons of this plan's unplaced units (and clears those of units now placed). */
  async afterPlan(state: EngineState, plan: DetailedPlan, guard: LeaderGuard): Promise<void> {
    const reasons = unplacedReasons(state, plan, this.drain.stuck());
    this.opts.onUnplaced?.(reasons.size);
    if (this.written === null) this.written = await listUnplaced(this.opts.ns);
    const written = this.written;
    const changes = new Map<string, UnplacedRecord | null>();
    const since = new Date().toISOString();
    for (const [unit, reason] of reasons) {
      if (written.get(unit)?.reason === reason) continue;
      changes.set(unit, { reason, since });
    }
    for (const unit of written.keys()) if (!reasons.has(unit)) changes.set(unit, null);
    if (changes.size === 0) return;
    await writeUnplaced(this.opts.ns, changes, guard);
    for (const [unit, rec] of changes) {
      if (rec) {
        written.set(unit, rec);
        this.opts.log.info({ unit, reason: rec.reason }, `Unit(${unit}) cannot be placed: ${rec.reason}`);
      } else {
        written.delete(unit);
      }
    }
  }

  private async unitSettled(
    machineID: string,
    unit: string,
    desired: 'loaded' | 'launched',
  ): Promise<boolean> {
    const key = unitStateKey(machineID, unit);
    const text = await this.opts.ns.get(key).string();
    if (text === null) return false;
    try {
      const s = decodeState(key, text);
      return desired === 'launched' ? s.active === 'active' : s.load === 'loaded';
    } catch {
      return false;
    }
  }
}
