// The in-memory cluster the planner places units into: per machine, the set of units it runs, kept
// ordered least-loaded first (ties: lowest machine ID), plus the counters that make the Conflicts
// check cheap. Pure; planReconcile (plan.ts) drives it.
// Design notes (the checks and their order): docs/architecture.md, "engine/scheduler.ts".

import type { MachineState, Requirements } from '../units/types.js';
import { machineMatchesID, machineMatchesMetadata } from '../units/xfleet.js';

/** A unit as the scheduler sees it: resolved requirements plus precomputed relations. */
export interface SchedUnit {
  readonly name: string;
  readonly global: boolean;
  /** Requirements with specifiers expanded against the unit's own name. */
  readonly req: Requirements;
  /** Set when the unit can never be placed (e.g. MachineOf itself); the text says why. */
  readonly unplaceable?: string;
  /** Conflicts entries without glob metacharacters: exact unit names. */
  readonly conflictExact: readonly string[];
  /** Conflicts globs, as ids in the planner's conflict GlobIndex. */
  readonly conflictPids: readonly number[];
  /** Ids of all conflict globs (of any unit) that match this unit's name. */
  readonly matchedPids: readonly number[];
  /** Units that (effectively) replace this one. */
  readonly replacers: readonly string[];
  /** Units this one (effectively) replaces. */
  readonly replaces: readonly string[];
  /** Units whose MachineOf names this unit. */
  readonly followers: readonly string[];
}

/** Why a unit cannot run on a machine; OK when it can. */
export const Fit = {
  OK: 0,
  Unplaceable: 1,
  MachineID: 2,
  Metadata: 3,
  Peer: 4,
  Conflict: 5,
  Replaced: 6,
  /** fleet-ts: the machine is drained (no new non-global placements). */
  Drained: 7,
} as const;
export type Fit = (typeof Fit)[keyof typeof Fit];

export class MachineSlot {
  readonly units = new Set<string>();
  /** The load it is filed under in Cluster.levels. */
  level = 0;
  /** Position in Cluster.byID (fixed). */
  index = 0;
  /** conflict-glob id -> how many units here have a name matching it. */
  readonly nameMatches = new Map<number, number>();
  /** conflict-glob id -> how many units here list it in Conflicts. */
  readonly globHolders = new Map<number, number>();
  /** unit name -> how many units here list it (exactly) in Conflicts. */
  readonly exactHolders = new Map<string, number>();

  constructor(readonly machine: MachineState) {}

  get id(): string {
    return this.machine.id;
  }

  get load(): number {
    return this.units.size;
  }
}

/** A unit removed from a machine as a side effect of a placement (Replaces, or its MachineOf peer left). */
export interface Eviction {
  readonly unit: string;
  readonly machineID: string;
  readonly reason: string;
}

const bump = <K>(map: Map<K, number>, key: K, by: number): void => {
  const next = (map.get(key) ?? 0) + by;
  if (next === 0) map.delete(key);
  else map.set(key, next);
};

/** Where a slot with this ID belongs in a level (slots by ascending ID). */
function insertionPoint(level: readonly MachineSlot[], id: string): number {
  let lo = 0;
  let hi = level.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (level[mid]!.id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class Cluster {
  /**
   * Machines by load: levels[n] holds the machines running n units, by ascending ID, so walking the
   * levels in order gives least-loaded first, ties by lowest ID. (One sorted array re-sorted by swaps
   * moved a machine past every other machine of its load on each placement: 25 s of a 100k plan.)
   */
  private readonly levels: MachineSlot[][];
  /** Machines by ascending ID. */
  readonly byID: readonly MachineSlot[];
  private readonly slots = new Map<string, MachineSlot>();
  /** Non-global unit -> the machine it is placed on. */
  private readonly location = new Map<string, MachineSlot>();
  /**
   * MachineMetadata verdicts per requirement object (units of one content share it) and machine index:
   * 0 unknown, 1 fits, 2 does not. A unit that fits few machines is checked against many while the
   * planner looks for the least-loaded one; at 100k units on 1,000 machines that check was half the plan.
   */
  private readonly metadataFits = new Map<Requirements['metadata'], Uint8Array>();

  constructor(
    machines: Iterable<MachineState>,
    private readonly units: ReadonlyMap<string, SchedUnit>,
  ) {
    const sorted = [...machines].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.byID = sorted.map((m) => new MachineSlot(m));
    this.byID.forEach((slot, i) => {
      slot.index = i;
      this.slots.set(slot.id, slot);
    });
    this.levels = [[...this.byID]];
  }

  /** Machines, least-loaded first, ties by lowest ID. */
  get order(): MachineSlot[] {
    return this.levels.flat();
  }

  slot(machineID: string): MachineSlot | undefined {
    return this.slots.get(machineID);
  }

  /** Where a non-global unit is placed. */
  locate(unit: string): MachineSlot | undefined {
    return this.location.get(unit);
  }

  /**
   * Can `u` (not yet on `m`) run on `m`? fleet's AbleToRun order, after our drain rule: a drained
   * machine takes no new non-global unit, but keeps (`keeping`) the ones it has.
   */
  fit(u: SchedUnit, m: MachineSlot, keeping = false): Fit {
    if (u.unplaceable !== undefined) return Fit.Unplaceable;
    if (!keeping && !u.global && m.machine.drained) return Fit.Drained;
    if (u.req.machineID !== undefined && !machineMatchesID(u.req, m.id)) return Fit.MachineID;
    if (!this.metadataMatches(u.req, m)) return Fit.Metadata;
    for (const peer of u.req.machineOf) if (!m.units.has(peer)) return Fit.Peer;
    if (this.conflictsOn(u, m)) return Fit.Conflict;
    for (const r of u.replacers) if (m.units.has(r)) return Fit.Replaced;
    return Fit.OK;
  }

  private metadataMatches(req: Requirements, m: MachineSlot): boolean {
    let verdicts = this.metadataFits.get(req.metadata);
    if (!verdicts) {
      verdicts = new Uint8Array(this.byID.length);
      this.metadataFits.set(req.metadata, verdicts);
    }
    const known = verdicts[m.index];
    if (known) return known === 1;
    const fits = machineMatchesMetadata(req, m.machine.metadata);
    verdicts[m.index] = fits ? 1 : 2;
    return fits;
  }

  /** Symmetric Conflicts check against the units already on `m` (u itself is not there). */
  private conflictsOn(u: SchedUnit, m: MachineSlot): boolean {
    for (const name of u.conflictExact) if (name !== u.name && m.units.has(name)) return true;
    for (const id of u.conflictPids) if ((m.nameMatches.get(id) ?? 0) > 0) return true;
    if ((m.exactHolders.get(u.name) ?? 0) > 0) return true;
    for (const id of u.matchedPids) if ((m.globHolders.get(id) ?? 0) > 0) return true;
    return false;
  }

  /** Human-readable reason for a non-OK fit, naming the culprit where there is one. */
  explain(u: SchedUnit, m: MachineSlot, fit: Fit = this.fit(u, m)): string {
    switch (fit) {
      case Fit.OK:
        return 'able to run';
      case Fit.Unplaceable:
        return u.unplaceable ?? 'unplaceable';
      case Fit.MachineID:
        return `MachineID ${u.req.machineID} does not match`;
      case Fit.Metadata:
        return 'machine metadata does not match';
      case Fit.Peer: {
        const missing = u.req.machineOf.find((p) => !m.units.has(p));
        return `peer Unit(${missing}) is not scheduled here`;
      }
      case Fit.Conflict: {
        const other = this.conflictingUnit(u, m);
        return `found conflict with locally-scheduled Unit(${other})`;
      }
      case Fit.Replaced: {
        const r = u.replacers.find((x) => m.units.has(x));
        return `replaced by Unit(${r})`;
      }
      case Fit.Drained:
        return 'machine is drained';
    }
  }

  /** The unit on `m` that conflicts with `u` (first by name), for explanations. */
  conflictingUnit(u: SchedUnit, m: MachineSlot): string | undefined {
    return [...m.units].sort().find((v) => this.pairConflicts(u, v));
  }

  private pairConflicts(u: SchedUnit, otherName: string): boolean {
    const v = this.units.get(otherName);
    if (!v || v.name === u.name) return false;
    if (u.conflictExact.includes(v.name) || v.conflictExact.includes(u.name)) return true;
    if (u.conflictPids.some((id) => v.matchedPids.includes(id))) return true;
    return v.conflictPids.some((id) => u.matchedPids.includes(id));
  }

  /** Least-loaded machine (ties: lowest ID) able to run `u`, or undefined. */
  decide(u: SchedUnit): MachineSlot | undefined {
    if (u.unplaceable !== undefined) return undefined;
    // Fast path for followers: a non-global peer pins the only candidate.
    const peer = u.req.machineOf[0];
    if (peer !== undefined) {
      const pv = this.units.get(peer);
      if (!pv) return undefined;
      if (!pv.global) {
        const m = this.location.get(peer);
        return m && this.fit(u, m) === Fit.OK ? m : undefined;
      }
    }
    for (const level of this.levels) for (const m of level) if (this.fit(u, m) === Fit.OK) return m;
    return undefined;
  }

  /**
   * Puts `u` on `m` (caller checked fit) and evicts what it replaces there, plus, transitively, the
   * MachineOf followers of every evicted unit. Returns the evictions in the order they happened.
   */
  place(u: SchedUnit, m: MachineSlot): Eviction[] {
    this.add(u, m);
    const evictions: Eviction[] = [];
    const queue: { unit: string; reason: string }[] = [];
    for (const x of u.replaces)
      if (m.units.has(x)) queue.push({ unit: x, reason: `replaced by Unit(${u.name})` });
    while (queue.length > 0) {
      const next = queue.shift()!;
      const v = this.units.get(next.unit);
      if (!v || !m.units.has(v.name)) continue;
      this.remove(v, m);
      evictions.push({ unit: v.name, machineID: m.id, reason: next.reason });
      for (const f of v.followers) {
        if (m.units.has(f)) queue.push({ unit: f, reason: `peer Unit(${v.name}) left the machine` });
      }
    }
    return evictions;
  }

  private add(u: SchedUnit, m: MachineSlot): void {
    m.units.add(u.name);
    if (!u.global) this.location.set(u.name, m);
    for (const id of u.matchedPids) bump(m.nameMatches, id, 1);
    for (const id of u.conflictPids) bump(m.globHolders, id, 1);
    for (const name of u.conflictExact) bump(m.exactHolders, name, 1);
    this.refile(m);
  }

  private remove(u: SchedUnit, m: MachineSlot): void {
    m.units.delete(u.name);
    if (this.location.get(u.name) === m) this.location.delete(u.name);
    for (const id of u.matchedPids) bump(m.nameMatches, id, -1);
    for (const id of u.conflictPids) bump(m.globHolders, id, -1);
    for (const name of u.conflictExact) bump(m.exactHolders, name, -1);
    this.refile(m);
  }

  /** Moves a machine whose load changed to its new level (native splices, not a walk). */
  private refile(m: MachineSlot): void {
    if (m.level === m.load) return;
    const from = this.levels[m.level]!;
    from.splice(insertionPoint(from, m.id), 1);
    while (this.levels.length <= m.load) this.levels.push([]);
    const to = this.levels[m.load]!;
    to.splice(insertionPoint(to, m.id), 0, m);
    m.level = m.load;
  }
}
