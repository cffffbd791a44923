// Cluster cron run records: `runs/<unit>/<tick ISO>` (relative to the key prefix).
// Design notes: docs/architecture.md, "registry/runs.ts".

import type { Namespace } from 'etcd3';
import { RUN_STATUSES, type RunRecord, type RunStatus } from '../units/runs.js';
import { parseRecordObject, RecordDecodeError } from './records.js';

export const RUNS_PREFIX = 'runs/';
export const unitRunsPrefix = (unit: string): string => `${RUNS_PREFIX}${unit}/`;
export const runKey = (unit: string, tick: string): string => `${unitRunsPrefix(unit)}${tick}`;

export function encodeRun(r: RunRecord): string {
  return JSON.stringify(r);
}

export function decodeRun(key: string, text: string): RunRecord {
  const r = parseRecordObject(key, text);
  if (typeof r.unit !== 'string' || typeof r.tick !== 'string')
    throw new RecordDecodeError(key, 'bad unit/tick');
  if (!RUN_STATUSES.includes(r.status as RunStatus)) throw new RecordDecodeError(key, 'bad status');
  const optStr = (f: string): string | undefined => (typeof r[f] === 'string' ? (r[f] as string) : undefined);
  const machineID = optStr('machineID');
  const reason = optStr('reason');
  const startedAt = optStr('startedAt');
  const endedAt = optStr('endedAt');
  const result = optStr('result');
  return {
    unit: r.unit,
    tick: r.tick,
    status: r.status as RunStatus,
    ...(machineID !== undefined ? { machineID } : {}),
    ...(r.late === true ? { late: true } : {}),
    ...(reason !== undefined ? { reason } : {}),
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(endedAt !== undefined ? { endedAt } : {}),
    ...(result !== undefined ? { result } : {}),
    ...(typeof r.exitStatus === 'number' ? { exitStatus: r.exitStatus } : {}),
  };
}

/** Runs of a unit, newest first, at most `limit` (all when undefined). Malformed records are skipped. */
export async function listRuns(ns: Namespace, unit: string, limit?: number): Promise<RunRecord[]> {
  let q = ns.getAll().prefix(unitRunsPrefix(unit)).sort('Key', 'Descend');
  if (limit !== undefined) q = q.limit(limit);
  const kvs = await q.strings();
  const out: RunRecord[] = [];
  for (const [key, text] of Object.entries(kvs)) {
    try {
      out.push(decodeRun(key, text));
    } catch {
      // A hand-edited or foreign record must not hide the others.
    }
  }
  return out.sort((a, b) => (a.tick < b.tick ? 1 : a.tick > b.tick ? -1 : 0));
}

/** What the agent tells the cluster about a run it executes. */
export interface RunReporter {
  /** The run record, null when absent or malformed. */
  read(unit: string, tick: string): Promise<RunRecord | null>;
  /**
   * Merges `update` into `runs/<unit>/<tick>` if that record exists and names this machine (a record
   * of another machine, or one already deleted, is left alone). Returns whether it was written.
   */
  report(unit: string, tick: string, machineID: string, update: Partial<RunRecord>): Promise<boolean>;
}

export function createRunReporter(ns: Namespace): RunReporter {
  return {
    async read(unit, tick) {
      const key = runKey(unit, tick);
      const text = await ns.get(key).string();
      if (text === null) return null;
      try {
        return decodeRun(key, text);
      } catch {
        return null;
      }
    },
    async report(unit, tick, machineID, update) {
      const key = runKey(unit, tick);
      // Read-modify-write with a compare on the revision: a concurrent engine write is never lost.
      for (let attempt = 0; attempt < 5; attempt++) {
        const res = await ns.get(key).exec();
        const kv = res.kvs[0];
        if (!kv) return false;
        let current: RunRecord;
        try {
          current = decodeRun(key, kv.value.toString());
        } catch {
          return false;
        }
        if (current.machineID !== machineID) return false;
        const next: RunRecord = { ...current, ...update, unit, tick, machineID };
        const txn = await ns
          .if(key, 'Mod', '==', kv.mod_revision)
          .then(ns.put(key).value(encodeRun(next)))
          .commit();
        if (txn.succeeded) return true;
      }
      return false;
    },
  };
}
