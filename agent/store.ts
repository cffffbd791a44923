// The agent's port to the cluster store: what the agent runtime needs (implemented on etcd by
// registry/agent-store.ts); small so that it can be faked.

import type { MachineState, ScheduleRecord, StateRecord } from '../units/types.js';

/** Value of `state/<machineID>/<unit>`: the StateRecord, under the name the agent knows. */
export type AgentStateRecord = StateRecord;

/** Called with the whole schedule of this machine after every change (and once at the start). */
export type ScheduleHandler = (
  schedule: ReadonlyMap<string, ScheduleRecord>,
  changed: readonly string[],
) => void;

/** What the agent runtime needs from the registry; small so that it can be faked. */
export interface AgentStore {
  /** Grants the lease and writes `machines/<id>/object` under it. */
  announce(machine: MachineState): Promise<void>;
  /**
   * Monotonic time (performance.now) at which the newest keepalive etcd acknowledged was sent, or the
   * grant was requested; 0 before the first. The lease lives at least agent_ttl after this moment.
   */
  leaseProof(): number;
  /** Called after the lease was lost and a new one was granted (machine and states re-published). */
  onLeaseRenewed(cb: () => void): void;
  /** Range + watch of `schedule/<machineID>/`; resumes from the last seen revision; resyncs on errors. */
  watchSchedule(machineID: string, handler: ScheduleHandler): Promise<void>;
  /** Re-reads the whole schedule (a fresh range) and calls the handler. */
  resyncSchedule(): Promise<void>;
  /** Serialized unit text stored under `unit/<hash>`, null when absent. Cached: contents are immutable. */
  getUnitText(hash: string): Promise<string | null>;
  publishState(unit: string, record: AgentStateRecord): Promise<void>;
  deleteState(unit: string): Promise<void>;
  /** Revokes the lease: the machine and all its states vanish at once. */
  leave(): Promise<void>;
  /** Stops keepalives and watches without revoking (the lease expires after its TTL). */
  close(): Promise<void>;
}
