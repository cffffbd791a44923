// The narrow port between the agent and systemd. The agent never talks to systemd any other way, so
// the real driver (systemctl.ts) and the in-memory fake (fake.ts) are interchangeable.
import type { SystemdState } from '../../units/types.js';

export interface SystemdDriver {
  daemonReload(): Promise<void>;
  /** `systemctl enable --runtime --force` (units with an [Install] section). */
  enableUnit(name: string): Promise<void>;
  /** `systemctl disable --runtime --no-reload`: the agent reloads once per batch, when systemd needs it. */
  disableUnit(name: string): Promise<void>;
  /**
   * Returns when the start job is queued/done. The state must be read afterwards: starting a unit
   * that fails at once still "succeeds".
   */
  startUnit(name: string): Promise<void>;
  stopUnit(name: string): Promise<void>;
  /**
   * Optional batch forms of startUnit/stopUnit: ONE call for all the names (`systemctl start --no-block
   * -- a b c`), same semantics per name. Reject when any name failed; the caller then retries one by
   * one to learn which, so one bad unit cannot block the rest. Why: a systemctl call costs ~10-20 ms,
   * which made starting 100 units one by one take seconds.
   */
  startUnits?(names: readonly string[]): Promise<void>;
  stopUnits?(names: readonly string[]): Promise<void>;
  /** Batch forms of disableUnit/resetFailed, as for startUnits: two calls per unload batch, not 2 × N. */
  disableUnits?(names: readonly string[]): Promise<void>;
  resetFailedUnits?(names: readonly string[]): Promise<void>;
  resetFailed(name: string): Promise<void>;
  /** `systemctl restart --no-block`: stops and starts the unit's processes (fleetctl restart). */
  restartUnit(name: string): Promise<void>;
  /** `systemctl kill --signal=SIGKILL`: ends a StopOnDisconnect unit whose stop overran its bound. */
  killUnit(name: string): Promise<void>;
  /**
   * Optional: false when systemd will see the current files of these units without a daemon-reload
   * (it has never loaded any of them and reads new unit files when they are first started). Without it
   * the agent reloads after every change of unit files.
   */
  reloadNeededFor?(names: readonly string[]): Promise<boolean>;
  /** LoadState/ActiveState/SubState for the names (unknown: not-found/inactive/dead). One systemctl call for all. */
  unitStates(names: readonly string[]): Promise<Map<string, SystemdState>>;
  /**
   * Cluster cron: how the unit's last run went (`systemctl show -p ActiveState,Result,ExecMainStatus,
   * ExecMainStartTimestampMonotonic,ExecMainExitTimestampMonotonic`). Optional: without it the agent infers the result
   * from the active state alone.
   */
  runStatus?(name: string): Promise<SystemdRunResult>;
}

/** The outcome of a unit's most recent run, as systemd reports it. */
export interface SystemdRunResult {
  /** ActiveState: active/activating/deactivating mean the run is still going. */
  readonly active: string;
  /** Result: success, exit-code, signal, timeout, core-dump, ... */
  readonly result: string;
  /** ExecMainStatus (exit code or signal number); null when systemd has none. */
  readonly execMainStatus: number | null;
  /** ExecMainStartTimestamp / ExecMainExitTimestamp as epoch ms; null when not set. */
  readonly startedAt: number | null;
  readonly exitedAt: number | null;
}

/** What systemd reports for a unit it does not know. */
export const UNKNOWN_UNIT_STATE: SystemdState = { load: 'not-found', active: 'inactive', sub: 'dead' };
