// The schedule after a plan is applied: what the engine's copy becomes once its writes commit, and what
// tests and benchmarks compare against.

import type { ScheduleRecord } from '../units/types.js';
import type { ScheduleChange } from './store.js';

/** The schedule after applying `changes` (for tests and for an engine that keeps a local copy). */
export function applyChanges(
  schedule: ReadonlyMap<string, ReadonlyMap<string, ScheduleRecord>>,
  changes: readonly ScheduleChange[],
): Map<string, Map<string, ScheduleRecord>> {
  const out = new Map<string, Map<string, ScheduleRecord>>();
  for (const [machineID, entries] of schedule) out.set(machineID, new Map(entries));
  for (const c of changes) {
    let entries = out.get(c.machineID);
    if (c.kind === 'delete') {
      entries?.delete(c.unit);
      if (entries && entries.size === 0) out.delete(c.machineID);
      continue;
    }
    if (!entries) {
      entries = new Map();
      out.set(c.machineID, entries);
    }
    entries.set(c.unit, c.record);
  }
  return out;
}
