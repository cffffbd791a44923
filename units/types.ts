// Shared data model of fleet-ts: plain data only, no I/O. Every other part
// (engine, agent, CLI, API) speaks in these types.
import type { HealthReport } from './health-check.js';

/** One `Name=Value` line of a unit file, in file order. Repeated keys are kept. */
export interface UnitOption {
  readonly section: string;
  readonly name: string;
  readonly value: string;
}

/** fleet's desired ("target") states. */
export type DesiredState = 'inactive' | 'loaded' | 'launched';
export const DESIRED_STATES: readonly DesiredState[] = ['inactive', 'loaded', 'launched'];

/** systemd's state triple as `systemctl` reports it (`loaded`/`active`/`running`, ...). */
export interface SystemdState {
  readonly load: string;
  readonly active: string;
  readonly sub: string;
}

/**
 * The [X-Fleet] requirements of a unit, as written (specifiers not yet expanded).
 * Produced by `parseRequirements` in units/xfleet.ts.
 */
export interface Requirements {
  /** First MachineID value (fleet uses only the first); full or 8-char short id. */
  readonly machineID?: string;
  /** MachineOf peers: exact unit names. */
  readonly machineOf: readonly string[];
  /** MachineMetadata: key -> accepted values (same key = OR, different keys = AND). */
  readonly metadata: Readonly<Record<string, readonly string[]>>;
  /** Conflicts globs (Go path.Match syntax), already split on whitespace. */
  readonly conflicts: readonly string[];
  /** Global=true|yes|1|on|t (case-insensitive, last value wins). */
  readonly global: boolean;
  /** Replaces globs. */
  readonly replaces: readonly string[];
  /** Unknown [X-Fleet] keys, for a warning. */
  readonly unknownKeys: readonly string[];
  /** Schedule= (cluster cron): the unit runs once per tick on one machine instead of staying placed. */
  readonly schedule?: ScheduleSpec;
  /**
   * StopOnDisconnect=true (fleet-ts extension, at-most-one opt-in): the agent stops the unit before its
   * machine's lease can expire, and the engine places it elsewhere only after that moment plus the
   * unit's stop bound. Absent for ordinary units, which keep running through any etcd outage.
   */
  readonly stopOnDisconnect?: StopOnDisconnectSpec;
}

export interface StopOnDisconnectSpec {
  /** The unit's stop bound (TimeoutStopSec=, else TimeoutSec=, else 90 s; units/stop-timeout.ts). */
  readonly stopTimeoutMs: number;
}

/** A scheduled unit's cron settings ([X-Fleet] Schedule*, last value of each key wins). */
export interface ScheduleSpec {
  /** cron expression (croner, node-cron syntax), 5 or 6 fields (seconds first when 6). */
  readonly expression: string;
  /** IANA time zone the expression is read in; undefined = the engine's local zone. */
  readonly timezone?: string;
  /** Ticks that passed while there was no engine leader: run the latest one late, or only record them. */
  readonly missed: 'run' | 'skip';
  /** A tick while the previous run is still active: skip it (recorded), or start another run. */
  readonly overlap: 'skip' | 'allow';
}

/** A machine as announced by its agent (plus metadata patched through the API). */
export interface MachineState {
  readonly id: string;
  readonly publicIP: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly version: string;
  /** true when this machine never campaigns for engine leadership. */
  readonly disableEngine: boolean;
  /**
   * fleet-ts extension: `fleetctl drain` marked the machine unschedulable (`machines/<id>/drain`, kept
   * without a lease so it survives fleetd restarts). Never part of the agent's own record.
   */
  readonly drained?: boolean;
}

/** A unit as the user submitted it: name, contents, desired state. */
export interface UnitSpec {
  readonly name: string;
  /** SHA1 hex (40 chars) of the serialized options. */
  readonly hash: string;
  readonly options: readonly UnitOption[];
  readonly desiredState: DesiredState;
  /** Where the unit came from: undefined for fleetctl/API, `watch:<dir>` for a watched directory. */
  readonly origin?: string;
}

/** One entry of the schedule: unit placed on a machine. */
export interface Placement {
  readonly unit: string;
  readonly machineID: string;
}

/**
 * What an agent reports for one unit it runs: systemd's triple plus what the agent
 * has done with it (loaded into systemd, or loaded and started).
 */
export interface UnitStateReport {
  readonly unit: string;
  readonly machineID: string;
  readonly hash: string;
  readonly systemd: SystemdState;
  /** What the agent achieved: 'loaded' (linked, not started) or 'launched' (start requested). */
  readonly agentState: 'loaded' | 'launched';
  /** fleet-ts extension: the newest restart generation this agent applied (absent = 0). */
  readonly restart?: number;
  /** fleet-ts extension: the unit's [X-Fleet] HealthCheck= result; absent when it declares none. */
  readonly health?: HealthReport;
}

/** What the agent of one machine is told to run. */
export interface ScheduleRecord {
  readonly hash: string;
  readonly desiredState: 'loaded' | 'launched';
  readonly global?: boolean;
  /**
   * Cluster cron: this entry is one run of a scheduled unit, for the tick with this ISO time. The agent
   * starts the unit once per distinct run and reports to `runs/<unit>/<run>` (registry/runs.ts).
   */
  readonly run?: string;
  /**
   * fleet-ts extension: the unit's restart generation (`fleetctl restart` bumps it in the job record,
   * the engine copies it here). An agent running the unit restarts it when this grows. Absent = 0.
   */
  readonly restart?: number;
}

/** What an agent reports for one unit: `state/<machineID>/<unit>` in the registry. */
export interface StateRecord {
  readonly hash: string;
  readonly load: string;
  readonly active: string;
  readonly sub: string;
  readonly agentState: 'loaded' | 'launched';
  /** The restart generation the agent applied to the running unit (absent = 0). */
  readonly restart?: number;
  /** Result of the unit's HealthCheck= for this activation (units/health-check.ts); absent without one. */
  readonly health?: HealthReport;
}
