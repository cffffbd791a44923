// The engine's reconcile planner: (units, machines, current schedule) -> schedule changes.
// Pure and deterministic: the same state always yields the same plan, whatever the map order.
// Design notes: docs/architecture.md, "engine/plan.ts".

import { compareStrings as byName, errorMessage } from '../units/common.js';
import type { Requirements, ScheduleRecord } from '../units/types.js';
import { resolveRequirements } from '../units/xfleet.js';
import { GlobIndex, isGlob } from './glob-index.js';
import { CHEAP_STEP, PLACE_STEP, type PlanSteps, runToEnd } from './plan-steps.js';
import { effectiveReplaces } from './replace-graph.js';
import { Cluster, type Eviction, Fit, type MachineSlot, type SchedUnit } from './scheduler.js';
import type { EngineState, EngineUnit, ScheduleChange } from './store.js';
/** A plan together with the cluster it produced (engine/reasons.ts explains what stayed unplaced). */
export interface DetailedPlan {
  readonly changes: ScheduleChange[];
  readonly cluster: Cluster;
  readonly sched: ReadonlyMap<string, SchedUnit>;
}

/** Upper bound on repeated passes; only pathological MachineOf/Replaces tangles get near it. */
export const MAX_PASSES = 64;

const entryKey = (machineID: string, unit: string): string => `${machineID}\u0000${unit}`;

/** The record a unit should have on a machine that runs it. */
export function recordFor(u: EngineUnit, global: boolean): ScheduleRecord {
  const desiredState = u.desiredState === 'launched' ? 'launched' : 'loaded';
  const restart = u.restart ? { restart: u.restart } : {};
  return global
    ? { hash: u.hash, desiredState, global: true, ...restart }
    : { hash: u.hash, desiredState, ...restart };
}

/** Does `had` already say what `recordFor(u, global)` would (without allocating it)? */
function upToDate(had: ScheduleRecord, u: EngineUnit, global: boolean): boolean {
  return (
    had.hash === u.hash &&
    had.desiredState === (u.desiredState === 'launched' ? 'launched' : 'loaded') &&
    Boolean(had.global) === global &&
    (had.restart ?? 0) === (u.restart ?? 0)
  );
}

export function sameRecord(a: ScheduleRecord, b: ScheduleRecord): boolean {
  return (
    a.hash === b.hash &&
    a.desiredState === b.desiredState &&
    Boolean(a.global) === Boolean(b.global) &&
    (a.restart ?? 0) === (b.restart ?? 0)
  );
}

/** True when some [X-Fleet] value could contain a specifier; most units have none. */
function mayHaveSpecifiers(req: Requirements): boolean {
  if (req.machineID?.includes('%')) return true;
  for (const list of [req.machineOf, req.conflicts, req.replaces]) {
    for (const v of list) if (v.includes('%')) return true;
  }
  for (const [key, values] of Object.entries(req.metadata)) {
    if (key.includes('%') || values.some((v) => v.includes('%'))) return true;
  }
  return false;
}

function resolveSafely(u: EngineUnit): { req: Requirements; error?: string } {
  // Without a `%`, expansion is the identity: skip it (and its allocations) for the common case.
  if (!mayHaveSpecifiers(u.requirements)) return { req: u.requirements };
  try {
    return { req: resolveRequirements(u.requirements, u.name) };
  } catch (err) {
    return { req: u.requirements, error: `unresolvable requirements: ${errorMessage(err)}` };
  }
}

const NONE: readonly never[] = [];

const goneReason = (machineID: string): string => `target Machine(${machineID}) went away`;

/** Resolves requirements and precomputes every relation the scheduler needs, once per plan. */
export function buildSchedUnits(units: readonly EngineUnit[]): Map<string, SchedUnit> {
  return runToEnd(schedUnitSteps(units));
}

function* schedUnitSteps(units: readonly EngineUnit[]): PlanSteps<Map<string, SchedUnit>> {
  const resolved = units.map((u) => ({ u, ...resolveSafely(u) }));
  const conflictIndex = new GlobIndex();
  const conflictPids = new Map<string, number[]>();
  const followers = new Map<string, string[]>();
  let anyReplaces = false;
  let step = 0;
  for (const { u, req } of resolved) {
    if (++step % CHEAP_STEP === 0) yield;
    if (req.replaces.length > 0) anyReplaces = true;
    if (req.conflicts.length > 0) {
      const pids: number[] = [];
      for (const c of req.conflicts) if (c !== '' && isGlob(c)) pids.push(conflictIndex.add(c));
      if (pids.length > 0) conflictPids.set(u.name, pids);
    }
    if (req.machineOf.length === 0) continue;
    for (const peer of new Set(req.machineOf)) {
      const list = followers.get(peer);
      if (list) list.push(u.name);
      else followers.set(peer, [u.name]);
    }
  }
  const replaces = anyReplaces
    ? effectiveReplaces(resolved.map(({ u, req }) => ({ name: u.name, replaces: req.replaces })))
    : undefined;
  const out = new Map<string, SchedUnit>();
  for (const { u, req, error } of resolved) {
    if (++step % CHEAP_STEP === 0) yield;
    const targets = replaces?.targets.get(u.name) ?? NONE;
    let unplaceable = error;
    if (req.machineOf.length > 0) {
      if (req.machineOf.includes(u.name)) unplaceable ??= 'MachineOf names the unit itself';
      const replacedPeer = req.machineOf.find((p) => targets.includes(p));
      if (replacedPeer !== undefined)
        unplaceable ??= `unresolvable requirements: peer "${replacedPeer}" is replaced`;
    }
    const unitFollowers = followers.get(u.name);
    out.set(u.name, {
      name: u.name,
      global: req.global,
      req,
      ...(unplaceable !== undefined ? { unplaceable } : {}),
      conflictExact: req.conflicts.length > 0 ? req.conflicts.filter((c) => c !== '' && !isGlob(c)) : NONE,
      conflictPids: conflictPids.get(u.name) ?? NONE,
      matchedPids: conflictIndex.size > 0 ? conflictIndex.matching(u.name) : NONE,
      replacers: replaces?.replacers.get(u.name) ?? NONE,
      replaces: targets,
      followers: unitFollowers ? unitFollowers.sort(byName) : NONE,
    });
  }
  return out;
}

export function planReconcile(state: EngineState): ScheduleChange[] {
  return planDetailed(state).changes;
}

/** planReconcile, also returning the resulting cluster (scheduled units are left out, as there). */
export function planDetailed(state: EngineState): DetailedPlan {
  return runToEnd(planSteps(state));
}

/**
 * planDetailed in steps: the generator pauses (yields) every few units so that a caller can give the
 * event loop a turn while a big plan is built (the engine's lease keepalives must go out on time). It
 * is the same computation on the same immutable state, so the result is planDetailed's; `state` must
 * not be mutated until the generator has finished.
 */
export function planSteps(state: EngineState): PlanSteps<DetailedPlan> {
  return placementSteps(withoutScheduledUnits(state));
}

/**
 * Cluster cron: units with Schedule= are never placed by the planner (engine/cron places one run per
 * tick), and their run entries are left alone. Returns `state` itself when there are none (common case).
 */
export function withoutScheduledUnits(state: EngineState): EngineState {
  const scheduled = new Set<string>();
  for (const u of state.units.values()) if (u.requirements.schedule) scheduled.add(u.name);
  if (scheduled.size === 0) return state;
  const { release } = state;
  const units = new Map([...state.units].filter(([name]) => !scheduled.has(name)));
  const schedule = new Map<string, ReadonlyMap<string, ScheduleRecord>>();
  for (const [machineID, entries] of state.schedule) {
    const kept = new Map([...entries].filter(([name]) => !scheduled.has(name)));
    if (kept.size > 0) schedule.set(machineID, kept);
  }
  return {
    units,
    machines: state.machines,
    schedule,
    ...(state.hold ? { hold: state.hold } : {}),
    ...(release ? { release } : {}),
  };
}

function* placementSteps(state: EngineState): PlanSteps<DetailedPlan> {
  const engineUnits = [...state.units.values()].sort((a, b) => byName(a.name, b.name));
  yield;
  const sched = yield* schedUnitSteps(engineUnits);
  const cluster = new Cluster(state.machines.values(), sched);
  const dropReason = new Map<string, string>();
  const noteEvictions = (evictions: readonly Eviction[]): void => {
    for (const e of evictions) dropReason.set(entryKey(e.machineID, e.unit), e.reason);
  };

  // Step 0: static drops; collect admissible existing entries per unit, machines in ID order.
  const existing = new Map<string, string[]>();
  let step = 0;
  for (const [machineID, entries] of state.schedule) {
    for (const unit of entries.keys()) {
      if (++step % CHEAP_STEP === 0) yield;
      const u = state.units.get(unit);
      let reason: string | undefined;
      if (!u) reason = 'unit destroyed';
      else if (u.desiredState === 'inactive') reason = 'target state inactive';
      else if (!state.machines.has(machineID)) reason = goneReason(machineID);
      if (reason !== undefined) {
        dropReason.set(entryKey(machineID, unit), reason);
        continue;
      }
      const list = existing.get(unit);
      if (list) list.push(machineID);
      else existing.set(unit, [machineID]);
    }
  }
  const keepOrder = [...existing.keys()].sort(byName);
  for (const list of existing.values()) list.sort(byName);

  // Step 1: keep passes.
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let admitted = false;
    for (const name of keepOrder) {
      if (++step % PLACE_STEP === 0) yield;
      const u = sched.get(name)!;
      if (!u.global && cluster.locate(name)) continue;
      for (const machineID of existing.get(name)!) {
        const m = cluster.slot(machineID)!;
        if (m.machine.drained && !u.global && state.release?.has(name)) continue;
        if (m.units.has(name) || cluster.fit(u, m, true) !== Fit.OK) continue;
        noteEvictions(cluster.place(u, m));
        admitted = true;
        if (!u.global) break;
      }
    }
    if (!admitted) break;
  }
  // Explain every existing entry that was not admitted, against the state that refused it.
  for (const name of keepOrder) {
    if (++step % PLACE_STEP === 0) yield;
    const u = sched.get(name)!;
    const kept = u.global ? undefined : cluster.locate(name);
    for (const machineID of existing.get(name)!) {
      const m = cluster.slot(machineID)!;
      if (m.units.has(name)) continue;
      const key = entryKey(machineID, name);
      if (dropReason.has(key)) continue;
      dropReason.set(
        key,
        kept
          ? `duplicate schedule entry; unit kept on Machine(${kept.id})`
          : m.machine.drained && state.release?.has(name)
            ? `moved off drained Machine(${machineID})`
            : `target Machine(${machineID}) unable to run unit: ${cluster.explain(u, m, cluster.fit(u, m, true))}`,
      );
    }
  }

  // Step 2: place passes.
  const active = engineUnits.filter((u) => u.desiredState !== 'inactive').map((u) => sched.get(u.name)!);
  const globals = active.filter((u) => u.global && u.unplaceable === undefined);
  const singles = active.filter(
    (u) => !u.global && u.unplaceable === undefined && !(state.hold?.has(u.name) ?? false),
  );
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let placed = false;
    for (const g of globals) {
      yield;
      for (const m of cluster.byID) {
        if (m.units.has(g.name) || cluster.fit(g, m) !== Fit.OK) continue;
        noteEvictions(cluster.place(g, m));
        placed = true;
      }
    }
    for (const u of singles) {
      if (++step % PLACE_STEP === 0) yield;
      if (cluster.locate(u.name)) continue;
      const m = cluster.decide(u);
      if (!m) continue;
      noteEvictions(cluster.place(u, m));
      placed = true;
    }
    if (!placed) break;
  }
  // Drain: a unit that left a drained machine (released, or a MachineOf follower of one) but fits nowhere
  // else stays where it was.
  const anyDrained = [...state.machines.values()].some((m) => m.drained);
  for (let pass = 0; anyDrained && pass < MAX_PASSES; pass++) {
    let admitted = false;
    for (const name of keepOrder) {
      if (++step % PLACE_STEP === 0) yield;
      const u = sched.get(name)!;
      if (u.global || cluster.locate(name)) continue;
      const m = existing
        .get(name)!
        .map((id) => cluster.slot(id)!)
        .find((x) => x.machine.drained && cluster.fit(u, x, true) === Fit.OK);
      if (!m) continue;
      noteEvictions(cluster.place(u, m));
      admitted = true;
    }
    if (!admitted) break;
  }

  return { changes: yield* diffSteps(state, cluster, sched, dropReason), cluster, sched };
}

/** Target (the cluster) minus current (state.schedule): deletes first, then puts, each by unit then machine. */
function* diffSteps(
  state: EngineState,
  cluster: Cluster,
  sched: ReadonlyMap<string, SchedUnit>,
  dropReason: ReadonlyMap<string, string>,
): PlanSteps<ScheduleChange[]> {
  const deletes: ScheduleChange[] = [];
  const puts: ScheduleChange[] = [];
  const previous = new Map<string, string>(); // unit -> lowest machine ID it was scheduled on
  let step = 0;
  for (const [machineID, entries] of state.schedule) {
    const slot = cluster.slot(machineID);
    for (const unit of entries.keys()) {
      if (++step % CHEAP_STEP === 0) yield;
      const prev = previous.get(unit);
      if (prev === undefined || machineID < prev) previous.set(unit, machineID);
      if (slot?.units.has(unit)) continue;
      const reason = dropReason.get(entryKey(machineID, unit)) ?? 'unit rescheduled';
      // An entry on a machine that went away stays until the unit runs somewhere else: deleting it
      // would make that machine's agent stop the unit when it reconnects, only for the engine to put
      // it back (a restart for nothing). Global units never run "somewhere else" for that machine.
      if (!slot && reason === goneReason(machineID) && (sched.get(unit)?.global || !cluster.locate(unit)))
        continue;
      deletes.push({ kind: 'delete', machineID, unit, reason });
    }
  }
  for (const m of cluster.byID) {
    const current = state.schedule.get(m.id);
    for (const unit of m.units) {
      if (++step % CHEAP_STEP === 0) yield;
      const u = state.units.get(unit)!;
      const global = sched.get(unit)!.global;
      const had = current?.get(unit);
      if (had && upToDate(had, u, global)) continue;
      const record = recordFor(u, global);
      puts.push({
        kind: 'put',
        machineID: m.id,
        unit,
        record,
        reason: putReason(m, u, record, had, previous),
      });
    }
  }
  const order = (a: ScheduleChange, b: ScheduleChange): number =>
    byName(a.unit, b.unit) || byName(a.machineID, b.machineID);
  deletes.sort(order);
  yield;
  return [...deletes, ...puts.sort(order)];
}

function putReason(
  m: MachineSlot,
  u: EngineUnit,
  record: ScheduleRecord,
  had: ScheduleRecord | undefined,
  previous: ReadonlyMap<string, string>,
): string {
  if (had) {
    const what: string[] = [];
    if (had.hash !== record.hash) what.push(`hash ${had.hash.slice(0, 7)} -> ${record.hash.slice(0, 7)}`);
    if (had.desiredState !== record.desiredState)
      what.push(`target state ${had.desiredState} -> ${record.desiredState}`);
    if (Boolean(had.global) !== Boolean(record.global))
      what.push(record.global ? 'now global' : 'no longer global');
    return what.join('; ');
  }
  if (record.global) return `global unit runs on Machine(${m.id})`;
  const prev = previous.get(u.name);
  return prev !== undefined && prev !== m.id ? `rescheduled from Machine(${prev})` : 'unit scheduled';
}

export { applyChanges } from './apply-changes.js';
