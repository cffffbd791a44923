// Placement preview (`fleetctl plan`, `fleetctl sync --dry-run`): what the engine's own planner
// (plan.ts) would do if some units were added, changed or destroyed, computed on a snapshot and never
// written. Pure: the rows say where each proposed unit would run, which other units would move or lose
// their place (Replaces, MachineOf, Conflicts), and why a unit could not be placed (reasons.ts).

import { compareStrings as byName } from '../units/common.js';
import { type DetailedPlan, planDetailed } from './plan.js';
import { unplacedReasons } from './reasons.js';
import type { EngineState, EngineUnit } from './store.js';

export type PreviewChange =
  /** Would be placed on `machine` (new, or waiting until now). */
  | 'place'
  /** Stays on `machine`. */
  | 'keep'
  /** Would leave `from` for `machine`. */
  | 'move'
  /** Would run nowhere: `reason` says why. */
  | 'unplaced'
  /** A global unit would leave `from` (its other machines have their own rows). */
  | 'remove'
  /** Destroyed or made inactive: would leave `from` (when it ran somewhere). */
  | 'stop'
  /** Submitted only (desired state inactive): not placed. */
  | 'submit'
  /** Cluster cron (Schedule=): placed at each tick, not now. */
  | 'cron';

export interface PreviewRow {
  readonly unit: string;
  readonly change: PreviewChange;
  /** Where the unit would run (place, keep, move). */
  readonly machine?: string;
  /** Where it runs now (move, remove, stop). */
  readonly from?: string;
  readonly reason?: string;
  /** A unit of the proposal (false: another unit the proposal affects). */
  readonly proposed: boolean;
  /** The engine would make this change even without the proposal (the cluster has not converged). */
  readonly pending?: true;
}

export interface Preview {
  readonly rows: readonly PreviewRow[];
  /** Every proposed unit that should run has a place, and no unit placed now would lose its place. */
  readonly ok: boolean;
}

export interface Proposal {
  /** Units added or changed, as they would be stored (desired state included). */
  readonly units: readonly EngineUnit[];
  /** Units that would be destroyed. */
  readonly destroy?: readonly string[];
}

/** unit -> machines that run it, from the schedule (present machines only, unless `all`). */
function scheduledOn(state: EngineState, all: boolean): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [machineID, entries] of state.schedule) {
    if (!all && !state.machines.has(machineID)) continue;
    for (const unit of entries.keys()) {
      const list = out.get(unit);
      if (list) list.push(machineID);
      else out.set(unit, [machineID]);
    }
  }
  for (const list of out.values()) list.sort(byName);
  return out;
}

/** unit -> machines the plan's resulting cluster runs it on. */
function targetsOf(plan: DetailedPlan): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of plan.cluster.byID) {
    for (const unit of m.units) {
      const list = out.get(unit);
      if (list) list.push(m.id);
      else out.set(unit, [m.id]);
    }
  }
  return out;
}

const same = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** The state with the proposal applied (what the registry would hold after submit/start/destroy). */
export function applyProposal(state: EngineState, proposal: Proposal): EngineState {
  const units = new Map(state.units);
  for (const name of proposal.destroy ?? []) units.delete(name);
  for (const u of proposal.units) units.set(u.name, u);
  return { ...state, units };
}

function placeReason(u: EngineUnit): string {
  const req = u.requirements;
  if (req.global) return 'global: every machine able to run it';
  if (req.machineOf.length > 0) return `MachineOf=${req.machineOf.join(' ')}`;
  if (req.machineID !== undefined) return `MachineID=${req.machineID}`;
  const meta = Object.entries(req.metadata).map(([k, v]) => `${k}=${v.join('|')}`);
  if (meta.length > 0) return `least-loaded machine with ${meta.join(',')}`;
  return 'least-loaded machine able to run it';
}

/** What would happen if `proposal` were applied to the cluster in `state`. */
export function previewPlacements(state: EngineState, proposal: Proposal): Preview {
  const after = applyProposal(state, proposal);
  const basePlan = planDetailed(state);
  const plan = planDetailed(after);
  const reasons = unplacedReasons(after, plan);
  const now = scheduledOn(state, false);
  const nowAll = scheduledOn(state, true);
  const target = targetsOf(plan);
  const baseTarget = targetsOf(basePlan);
  const deleteReason = new Map<string, string>();
  for (const c of plan.changes)
    if (c.kind === 'delete') deleteReason.set(`${c.unit}\u0000${c.machineID}`, c.reason);
  const whyLeft = (unit: string, from: string): string | undefined =>
    deleteReason.get(`${unit}\u0000${from}`);

  const proposed = new Map(proposal.units.map((u) => [u.name, u]));
  const destroyed = new Set(proposal.destroy ?? []);
  const rows: PreviewRow[] = [];
  let ok = true;

  const names = new Set<string>([...proposed.keys(), ...destroyed, ...nowAll.keys(), ...target.keys()]);
  for (const name of [...names].sort(byName)) {
    const u = after.units.get(name);
    const isProposed = proposed.has(name) || destroyed.has(name);
    const cur = nowAll.get(name) ?? [];
    const curPresent = now.get(name) ?? [];
    const tgt = target.get(name) ?? [];
    const pending = !isProposed && same(baseTarget.get(name) ?? [], tgt) ? { pending: true as const } : {};
    const push = (row: Omit<PreviewRow, 'unit' | 'proposed'>): void => {
      rows.push({ unit: name, proposed: isProposed, ...row, ...pending });
    };
    if (!u || u.desiredState === 'inactive') {
      if (!isProposed) continue;
      for (const from of curPresent)
        push({ change: 'stop', from, reason: u ? 'target state inactive' : 'unit destroyed' });
      if (u && curPresent.length === 0)
        push({ change: 'submit', reason: 'desired state inactive: not placed' });
      if (!u && curPresent.length === 0) push({ change: 'stop', reason: 'unit destroyed (it runs nowhere)' });
      continue;
    }
    if (u.requirements.schedule) {
      if (isProposed)
        push({
          change: 'cron',
          reason: `Schedule=${u.requirements.schedule.expression}: one run per tick on a machine chosen then`,
        });
      continue;
    }
    if (!isProposed && same(cur, tgt)) continue;
    if (tgt.length === 0) {
      // Another unit already without a place, and still without one: not this proposal's doing.
      if (!isProposed && curPresent.length === 0) continue;
      ok = false;
      const from = curPresent[0];
      push({
        change: 'unplaced',
        ...(from ? { from } : {}),
        reason: reasons.get(name) ?? 'no machine able to run it',
      });
      continue;
    }
    if (u.requirements.global) {
      for (const m of tgt)
        push({ change: cur.includes(m) ? 'keep' : 'place', machine: m, reason: placeReason(u) });
      for (const from of curPresent.filter((m) => !tgt.includes(m)))
        push({ change: 'remove', from, reason: whyLeft(name, from) ?? 'no longer able to run it' });
      continue;
    }
    const machine = tgt[0] as string;
    const from = cur.find((m) => m !== machine);
    if (cur.includes(machine)) push({ change: 'keep', machine, reason: 'already runs there' });
    else if (from !== undefined)
      push({
        change: 'move',
        machine,
        from,
        reason: whyLeft(name, from) ?? `rescheduled from Machine(${from})`,
      });
    else push({ change: 'place', machine, reason: placeReason(u) });
  }
  return { rows, ok };
}
