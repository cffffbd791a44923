// Cluster cron: which machines could run a scheduled unit now, with the planner's own checks.

import { compareStrings as byName } from '../../units/common.js';
import { buildSchedUnits } from '../plan.js';
import { Cluster, Fit } from '../scheduler.js';
import type { EngineState } from '../store.js';

/**
 * Cluster cron: for the current schedule, which machines could run each unit now, least-loaded first
 * (ties: lowest ID), with fleet's checks (MachineID, MachineMetadata, MachineOf, Conflicts, Replaces)
 * against everything currently scheduled. Built once, asked for several units.
 */
export function machineFeasibility(state: EngineState): (unit: string) => string[] {
  const sched = buildSchedUnits([...state.units.values()].sort((a, b) => byName(a.name, b.name)));
  const cluster = new Cluster(state.machines.values(), sched);
  for (const [machineID, entries] of state.schedule) {
    const m = cluster.slot(machineID);
    if (!m) continue;
    for (const name of entries.keys()) {
      const v = sched.get(name);
      if (v && !m.units.has(name)) cluster.place(v, m);
    }
  }
  return (unit) => {
    const u = sched.get(unit);
    if (!u) return [];
    // The unit's own entries (an earlier run still there) do not stop another run on that machine.
    return cluster.order.filter((m) => m.units.has(unit) || cluster.fit(u, m) === Fit.OK).map((m) => m.id);
  };
}
