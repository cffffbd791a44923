// The registry: fleet-ts's shared state in etcd v3, used by engine, agent, CLI and API.
// Design notes: docs/architecture.md, "registry/types.ts".

import type {
  DesiredState,
  MachineState,
  Placement,
  SystemdState,
  UnitOption,
  UnitSpec,
  UnitStateReport,
} from '../units/types.js';

export const DEFAULT_KEY_PREFIX = '/_coreos.com/fleet/';

/** Connection settings for etcd, shared by fleetd and fleetctl. */
export interface EtcdConnectionOptions {
  /** e.g. ['http://127.0.0.1:2379'] */
  readonly endpoints: readonly string[];
  readonly keyPrefix: string;
  /** Deadline of every unary call. */
  readonly requestTimeoutMs: number;
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  /** TLS name to verify (and send as SNI) when the endpoint address differs, e.g. through an SSH tunnel. */
  readonly tlsServerName?: string;
  readonly username?: string;
  readonly password?: string;
}

/** A unit together with where it is scheduled (non-global units: at most one machine). */
export interface UnitWithTarget extends UnitSpec {
  /** Target machine of a non-global unit, undefined when unscheduled or global. */
  readonly machineID?: string;
  readonly global: boolean;
  /**
   * fleet's derived current state: 'inactive' when unscheduled or the target machine has not reported
   * the unit, otherwise what that agent achieved ('loaded' or 'launched'). Undefined for global units
   * (fleet shows `-`).
   */
  readonly currentState?: DesiredState;
  /** fleet-ts extension: why the engine cannot place the unit (`unplaced/<unit>`), when it cannot. */
  readonly reason?: string;
}

/** Thrown when a write guarded by leadership is rejected because leadership was lost. */
export class NotLeaderError extends Error {
  constructor(message = 'engine leadership lost; write rejected') {
    super(message);
    this.name = 'NotLeaderError';
  }
}

/** Thrown for an unknown unit. */
export class UnitNotFoundError extends Error {
  constructor(readonly unit: string) {
    super(`Unit ${unit} not found`);
    this.name = 'UnitNotFoundError';
  }
}

/** Read side, used by everybody. */
export interface RegistryReader {
  listUnits(): Promise<UnitWithTarget[]>;
  getUnit(name: string): Promise<UnitWithTarget | null>;
  /** Options stored under unit/<hash>, null when absent. */
  getUnitOptions(hash: string): Promise<UnitOption[] | null>;
  listMachines(): Promise<MachineState[]>;
  listSchedule(): Promise<Placement[]>;
  /** All state reports, sorted by (unit, machineID). */
  listUnitStates(): Promise<UnitStateReport[]>;
}

export interface CreateUnitOptions {
  readonly replace?: boolean;
  /** Compare-and-swap for `replace`: the hash the caller saw (see UnitWriter.createUnit). */
  readonly expectHash?: string;
}

/** Write side for users (CLI, API, watched directory). */
export interface UnitWriter {
  /**
   * Store the contents under unit/<hash> (if absent) and create job/<name>.
   * Returns false (and changes nothing) when the unit already exists, unless `replace` is set,
   * in which case the unit's hash is replaced atomically (desired state as given).
   * With `replace` and `expectHash`, the write happens only if the stored job still exists with hash
   * `expectHash` (checked in the same transaction as the write); otherwise it returns false and
   * changes nothing. Of several writers replacing the same version concurrently, exactly one writes.
   * `expectHash` without `replace` adds nothing: creating is already create-only.
   */
  createUnit(spec: UnitSpec, opts?: CreateUnitOptions): Promise<boolean>;
  /** Throws UnitNotFoundError for an unknown unit. */
  setDesiredState(name: string, state: DesiredState): Promise<void>;
  /** Returns false when the unit did not exist. */
  destroyUnit(name: string): Promise<boolean>;
  /** PATCH /machines: set ("" = tombstone) dynamic metadata. */
  setMachineMetadata(machineID: string, key: string, value: string): Promise<void>;
}

/** Everything the CLI and API need. */
export interface Registry extends RegistryReader, UnitWriter {
  close(): Promise<void>;
}

export type { DesiredState, MachineState, Placement, SystemdState, UnitOption, UnitSpec, UnitStateReport };

/**
 * Which state reports to read. One machine's reports are one prefix range; one unit's reports are found
 * from the keys of state/ (no values), then only those are read.
 */
export interface UnitStateFilter {
  readonly machineID?: string;
  readonly unit?: string;
}
