// The web console's JSON (fleet-ts extension, /fleet/v1/console/...): one snapshot of the cluster per
// page load and per registry change. Shared by the server (./snapshot.ts) and the page (./client/).

import type { ApiRun } from '../schema.js';

export interface ConsoleMachine {
  readonly id: string;
  readonly primaryIP: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly version: string;
  readonly leader: boolean;
  readonly drained: boolean;
  /** Units placed on the machine (globals included). */
  readonly units: number;
  /** Seconds since the agent last renewed its lease when the snapshot was taken; absent: unknown. */
  readonly heartbeatAge?: number;
}

export interface ConsoleUnitState {
  readonly machineID: string;
  readonly hash: string;
  readonly load: string;
  readonly active: string;
  readonly sub: string;
  readonly health?: string;
}

export interface ConsoleUnit {
  readonly name: string;
  readonly hash: string;
  readonly desiredState: string;
  /** fleet's derived current state; absent for globals (fleet shows `-`). */
  readonly currentState?: string;
  /** Target machine of a non-global unit. */
  readonly machineID?: string;
  readonly global: boolean;
  /** Why the engine cannot place the unit (unplaced/<unit>). */
  readonly reason?: string;
  /** Cluster cron: the Schedule= expression, the next tick (armed units) and the last runs. */
  readonly schedule?: string;
  readonly nextTick?: string;
  readonly lastRuns?: readonly ApiRun[];
  /** What each machine's agent reported (one entry for a placed unit, one per machine for globals). */
  readonly states: readonly ConsoleUnitState[];
}

export interface ConsoleSnapshot {
  /** ISO time the snapshot was read (heartbeat ages count from it). */
  readonly at: string;
  readonly machines: readonly ConsoleMachine[];
  readonly units: readonly ConsoleUnit[];
}

export interface ConsoleUnitDetail {
  readonly unit: ConsoleUnit;
  /** The unit file as submitted (serialized options). */
  readonly file: string;
}

export interface ConsoleJournal {
  readonly machineID: string;
  readonly lines: readonly string[];
}
