// Cluster cron's writes next to its run records (runs.ts): every write is one transaction guarded by
// the leader key, so a deposed leader's writes fail and a tick is decided exactly once across failovers.

import type { Namespace } from 'etcd3';
import { isActiveRun, type RunRecord } from '../units/runs.js';
import type { ScheduleRecord } from '../units/types.js';
import { jobKey, scheduleKey } from './keys.js';
import { decodeSchedule, encodeSchedule } from './records.js';
import { decodeRun, encodeRun, listRuns, runKey, unitRunsPrefix } from './runs.js';

/** Proof of leadership: `create revision of key == createRevision` (the engine's LeaderGuard). */
export interface CronGuard {
  readonly key: string;
  readonly createRevision: string;
}

/** Where a run is placed: `schedule/<machineID>/<unit>` with `run: <tick>`, for the agent to start. */
export interface RunPlacement {
  readonly machineID: string;
  readonly entry: ScheduleRecord;
}

export type TickWrite = 'written' | 'exists' | 'not-leader';

export interface CronStore {
  /** Runs of a unit, newest first, at most `limit`. */
  listRuns(unit: string, limit: number): Promise<RunRecord[]>;
  /** The run record, null when absent or malformed. */
  readRun(unit: string, tick: string): Promise<RunRecord | null>;
  /**
   * Creates the record of a tick (and places the run) if the tick is undecided, the unit still exists
   * and `guard` holds. 'exists' also when the unit is gone: the tick is passed over.
   */
  recordTick(guard: CronGuard, run: RunRecord, placement?: RunPlacement): Promise<TickWrite>;
  /** Replaces `current` by `next` if the record is still `current`. */
  updateRun(guard: CronGuard, current: RunRecord, next: RunRecord): Promise<void>;
  /** Deletes `schedule/<machineID>/<unit>` if it still is the entry of `tick`. True when it is gone. */
  removeRunEntry(guard: CronGuard, unit: string, machineID: string, tick: string): Promise<boolean>;
  /** Keeps the newest `keep` records of a unit (and every active one). */
  pruneRuns(unit: string, keep: number): Promise<void>;
}

export function createCronStore(ns: Namespace): CronStore {
  const readRun = async (unit: string, tick: string): Promise<RunRecord | null> => {
    const text = await ns.get(runKey(unit, tick)).string();
    if (text === null) return null;
    try {
      return decodeRun(runKey(unit, tick), text);
    } catch {
      return null;
    }
  };

  return {
    listRuns: (unit, limit) => listRuns(ns, unit, limit),
    readRun,

    async recordTick(guard, run, placement) {
      const key = runKey(run.unit, run.tick);
      const ops = [ns.put(key).value(encodeRun(run))];
      if (placement) {
        ops.push(ns.put(scheduleKey(placement.machineID, run.unit)).value(encodeSchedule(placement.entry)));
      }
      // Also requires the unit to exist: a tick decided from a view that lags a destroy must not leave a
      // run record (or a run) behind the destroyed unit.
      const res = await ns
        .if(guard.key, 'Create', '==', guard.createRevision)
        .and(key, 'Create', '==', 0)
        .and(jobKey(run.unit), 'Create', '>', 0)
        .then(...ops)
        .else(ns.get(guard.key))
        .commit();
      if (res.succeeded) return 'written';
      const holder = res.responses[0]?.response_range?.kvs[0];
      return holder?.create_revision !== guard.createRevision ? 'not-leader' : 'exists';
    },

    async updateRun(guard, current, next) {
      const key = runKey(current.unit, current.tick);
      await ns
        .if(guard.key, 'Create', '==', guard.createRevision)
        .and(key, 'Value', '==', encodeRun(current))
        .then(ns.put(key).value(encodeRun(next)))
        .commit();
    },

    async removeRunEntry(guard, unit, machineID, tick) {
      const key = scheduleKey(machineID, unit);
      const res = await ns.get(key).exec();
      const kv = res.kvs[0];
      if (!kv) return true;
      let entry: ScheduleRecord;
      try {
        entry = decodeSchedule(key, kv.value.toString());
      } catch {
        return true; // not ours to judge; the planner or a human owns a malformed entry
      }
      if (entry.run !== tick) return true; // a newer run (or a normal placement) took the key
      const del = await ns
        .if(guard.key, 'Create', '==', guard.createRevision)
        .and(key, 'Mod', '==', kv.mod_revision)
        .then(ns.delete().key(key))
        .commit();
      return del.succeeded;
    },

    async pruneRuns(unit, keep) {
      // Keys come back relative to the namespace: `runs/<unit>/<tick>`.
      const kvs = await ns.getAll().prefix(unitRunsPrefix(unit)).strings();
      const keys = Object.keys(kvs).sort();
      const excess = keys.length - keep;
      if (excess <= 0) return;
      const victims: string[] = [];
      for (const k of keys) {
        if (victims.length >= excess) break;
        try {
          if (isActiveRun(decodeRun(k, kvs[k] ?? ''))) continue;
        } catch {
          // malformed: prune it too
        }
        victims.push(k);
      }
      for (const k of victims) await ns.delete().key(k);
    },
  };
}
