// Placement reasons: for every unit the engine could not place, one line saying why, per machine class,
// Nomad-style ("3 machines: 2 lack role=db, 1 runs apache@1.service which conflicts"). Pure: computed
// from the cluster a plan produced (plan.ts planDetailed), so it explains exactly what the planner did.

import type { DetailedPlan } from './plan.js';
import { type Cluster, Fit, type MachineSlot, type SchedUnit } from './scheduler.js';
import type { EngineState } from './store.js';

/** At most this many units are explained per plan (a reason per unit is O(machines)). */
export const MAX_EXPLAINED = 2000;

const verb = (n: number, one: string, many: string): string => (n === 1 ? one : many);

/** Why `u` cannot run on `m`, as a phrase taking a count ("2 lack role=db"). */
function phrase(cluster: Cluster, u: SchedUnit, m: MachineSlot, fit: Fit): (n: number) => string {
  switch (fit) {
    case Fit.MachineID:
      return (n) => `${n} ${verb(n, 'does', 'do')} not match MachineID=${u.req.machineID}`;
    case Fit.Metadata: {
      const missing = Object.entries(u.req.metadata).find(([k, accepted]) => {
        const v = m.machine.metadata[k];
        return v === undefined || !accepted.includes(v);
      });
      const want = missing ? `${missing[0]}=${missing[1].join('|')}` : 'the required metadata';
      return (n) => `${n} ${verb(n, 'lacks', 'lack')} ${want}`;
    }
    case Fit.Peer: {
      const peer = u.req.machineOf.find((p) => !m.units.has(p));
      return (n) => `${n} ${verb(n, 'does', 'do')} not run peer ${peer}`;
    }
    case Fit.Conflict: {
      const other = cluster.conflictingUnit(u, m);
      return (n) => `${n} ${verb(n, 'runs', 'run')} ${other} which conflicts`;
    }
    case Fit.Replaced: {
      const r = u.replacers.find((x) => m.units.has(x));
      return (n) => `${n} ${verb(n, 'runs', 'run')} ${r} which replaces it`;
    }
    case Fit.Drained:
      return (n) => `${n} ${verb(n, 'is', 'are')} drained`;
    default:
      return (n) => `${n} could run it`;
  }
}

/** One line: why `u` fits none of the machines (`exclude`: machines not counted, e.g. its drained one). */
export function explainUnit(cluster: Cluster, u: SchedUnit, exclude?: string): string {
  if (u.unplaceable !== undefined) return u.unplaceable;
  const machines = cluster.byID.filter((m) => m.id !== exclude);
  if (machines.length === 0)
    return exclude ? 'no other machine in the cluster' : 'no machines in the cluster';
  const groups = new Map<string, { count: number; text: (n: number) => string }>();
  for (const m of machines) {
    const fit = cluster.fit(u, m);
    const text = phrase(cluster, u, m, fit);
    const key = text(0);
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { count: 1, text });
  }
  const parts = [...groups.values()]
    .sort((a, b) => b.count - a.count || (a.text(0) < b.text(0) ? -1 : 1))
    .map((g) => g.text(g.count));
  const n = machines.length;
  return `${n} ${exclude ? 'other ' : ''}${verb(n, 'machine', 'machines')}: ${parts.join(', ')}`;
}

/**
 * Reasons for the active units the plan left unplaced (non-global: on no machine; global: on none),
 * plus `stuck` units (drain could not move them off `machine`). Scheduled (cron) and inactive units
 * have none.
 */
export function unplacedReasons(
  state: EngineState,
  plan: DetailedPlan,
  stuck: ReadonlyMap<string, string> = new Map(),
): Map<string, string> {
  const out = new Map<string, string>();
  const placedGlobals = new Set<string>();
  for (const m of plan.cluster.byID) for (const name of m.units) placedGlobals.add(name);
  for (const u of plan.sched.values()) {
    if (out.size >= MAX_EXPLAINED) break;
    const unit = state.units.get(u.name);
    if (!unit || unit.desiredState === 'inactive') continue;
    const drainedOn = stuck.get(u.name);
    if (drainedOn !== undefined) {
      out.set(u.name, `stays on drained Machine(${drainedOn}): ${explainUnit(plan.cluster, u, drainedOn)}`);
      continue;
    }
    const placed = u.global ? placedGlobals.has(u.name) : plan.cluster.locate(u.name) !== undefined;
    if (!placed) out.set(u.name, explainUnit(plan.cluster, u));
  }
  return out;
}
