// The engine's port to the cluster store: the state it plans over, the events that change it, what it
// needs from a store (implemented on etcd by registry/engine-store.ts), and the pure reducers.

import type { DesiredState, MachineState, Requirements, ScheduleRecord } from '../units/types.js';

export interface EngineUnit {
  readonly name: string;
  readonly hash: string;
  readonly desiredState: DesiredState;
  /** As written; specifiers (%n %N %p %i) are expanded here against the unit's name. */
  readonly requirements: Requirements;
  /** Restart generation from the job record (fleetctl restart), copied into every schedule record. */
  readonly restart?: number;
}

export interface EngineState {
  readonly units: ReadonlyMap<string, EngineUnit>;
  /** Present machines; metadata already merged. */
  readonly machines: ReadonlyMap<string, MachineState>;
  /** machineID -> unit -> record: the current schedule in etcd. */
  readonly schedule: ReadonlyMap<string, ReadonlyMap<string, ScheduleRecord>>;
  /**
   * Units not to be placed on any machine in this pass: those on a machine that is absent but not yet
   * known to be lost (a new leader's first agent_ttl), and StopOnDisconnect units of a lost machine
   * until their stop bound has passed (engine/absence.ts decides). Their entries stay where they are.
   */
  readonly hold?: ReadonlySet<string>;
  /**
   * Drain (engine/drain.ts): non-global units allowed to leave their drained machine in this plan. Each
   * goes where the normal rules put it; one that fits nowhere else stays where it is.
   */
  readonly release?: ReadonlySet<string>;
}

export type ScheduleChange =
  | {
      readonly kind: 'put';
      readonly machineID: string;
      readonly unit: string;
      readonly record: ScheduleRecord;
      readonly reason: string;
    }
  | { readonly kind: 'delete'; readonly machineID: string; readonly unit: string; readonly reason: string };

/** Proof of leadership attached to every engine write: `create revision of key == createRevision`. */
export interface LeaderGuard {
  readonly key: string;
  readonly createRevision: string;
}

/** One change the engine must apply to its in-memory state, at the etcd revision it happened. */
export type StoreEvent =
  | {
      readonly kind: 'unit';
      readonly name: string;
      readonly unit: EngineUnit | null;
      readonly revision: bigint;
    }
  | {
      readonly kind: 'machine';
      readonly id: string;
      readonly machine: MachineState | null;
      readonly revision: bigint;
    }
  | {
      readonly kind: 'schedule';
      readonly machineID: string;
      readonly unit: string;
      readonly record: ScheduleRecord | null;
      readonly revision: bigint;
    };

export interface Snapshot {
  readonly revision: string;
  readonly state: EngineState;
}

export interface WatchHandlers {
  /**
   * Events in revision order for each key (jobs and machines, and the schedule, are watched separately);
   * `revision`: every change up to it has been received.
   */
  onEvents(events: StoreEvent[], revision: string): void;
  /** The watch could not resume (revision compacted): here is a fresh snapshot, replace your state. */
  onReset(snapshot: Snapshot): void;
}

export interface StoreWatch {
  stop(): Promise<void>;
}

/** A schedule write was rejected because the schedule in etcd is not what the engine believed. */
export class StaleScheduleError extends Error {
  constructor() {
    super('schedule in etcd differs from the engine view; reload needed');
    this.name = 'StaleScheduleError';
  }
}

export interface ApplyOptions {
  /** The schedule the changes were planned against: each write also checks its key is as believed. */
  readonly current?: EngineState['schedule'];
  /** Checked before every transaction: a leader that cannot prove its lease alive writes nothing. */
  readonly stillLeader?: () => boolean;
  /**
   * The machines the plan saw present. A change on any other machine (removing a unit from a machine
   * that went away) also checks, in its transaction, that the machine is still absent: one that
   * re-registered meanwhile keeps its units (the write fails as stale and the engine re-plans).
   */
  readonly present?: { has(machineID: string): boolean };
}

export interface EngineStore {
  loadSnapshot(): Promise<Snapshot>;
  /**
   * Watch job/, machines/ and schedule/ (not runs/) from `fromRevision` (exclusive), normally the
   * revision of the last loadSnapshot; from any other revision the watch starts with a reset.
   */
  watch(fromRevision: string, handlers: WatchHandlers): StoreWatch;
  /**
   * Writes the changes, deletes first (so a move never shows a unit on two machines), in transactions of
   * at most maxTxnOps - 1 operations (a few in flight), each guarded by the leader key's create revision.
   * Throws NotLeaderError when leadership is gone (nothing more is written), StaleScheduleError when a
   * key was not as believed. Returns the revision of the last transaction (null when nothing written).
   */
  applyChanges(
    changes: readonly ScheduleChange[],
    guard: LeaderGuard,
    opts?: ApplyOptions,
  ): Promise<string | null>;
}

/** Pure: the engine state after a batch of store events. Copies only the maps it changes. */
export function applyStoreEvents(state: EngineState, events: readonly StoreEvent[]): EngineState {
  let units: Map<string, EngineUnit> | undefined;
  let machines: Map<string, MachineState> | undefined;
  let schedule: Map<string, ReadonlyMap<string, ScheduleRecord>> | undefined;
  const copiedMachineSchedules = new Set<string>();
  for (const ev of events) {
    if (ev.kind === 'unit') {
      units ??= new Map(state.units);
      if (ev.unit) units.set(ev.name, ev.unit);
      else units.delete(ev.name);
    } else if (ev.kind === 'machine') {
      machines ??= new Map(state.machines);
      if (ev.machine) machines.set(ev.id, ev.machine);
      else machines.delete(ev.id);
    } else {
      schedule ??= new Map(state.schedule);
      let inner = schedule.get(ev.machineID) as Map<string, ScheduleRecord> | undefined;
      if (!copiedMachineSchedules.has(ev.machineID)) {
        inner = new Map(inner ?? []);
        copiedMachineSchedules.add(ev.machineID);
      }
      if (!inner) inner = new Map();
      if (ev.record) inner.set(ev.unit, ev.record);
      else inner.delete(ev.unit);
      if (inner.size === 0) schedule.delete(ev.machineID);
      else schedule.set(ev.machineID, inner);
    }
  }
  return {
    units: units ?? state.units,
    machines: machines ?? state.machines,
    schedule: schedule ?? state.schedule,
  };
}

/** Pure: the schedule after changes the engine wrote itself (as store events at `revision`). */
export function changesAsEvents(changes: readonly ScheduleChange[], revision: bigint): StoreEvent[] {
  return changes.map((c) => ({
    kind: 'schedule' as const,
    machineID: c.machineID,
    unit: c.unit,
    record: c.kind === 'put' ? c.record : null,
    revision,
  }));
}
