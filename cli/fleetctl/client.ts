// fleetctl's port to the cluster: commands only see `FleetClient` (the part of the Registry they
// use), so the etcd client (etcd-client.ts) and the HTTP API client (api-client.ts) plug in alike.
import type { MachineHealth } from '../../registry/ops-records.js';
import type { EtcdConnectionOptions, Registry } from '../../registry/types.js';
import type { RunRecord } from '../../units/runs.js';
import type { DesiredState, UnitSpec } from '../../units/types.js';
import type { GlobalOptions } from './options.js';

export type FleetClient = Pick<
  Registry,
  | 'listUnits'
  | 'getUnit'
  | 'listMachines'
  | 'listUnitStates'
  | 'createUnit'
  | 'setDesiredState'
  | 'destroyUnit'
  | 'close'
> & {
  /**
   * Cluster cron runs of a unit, newest first, at most `limit`; [] for an unknown unit. The etcd
   * registry reads `runs/<unit>/`; the API driver asks fleet-ts's extension `GET /units/<name>/runs`.
   * Optional because a registry injected in tests may have no run history.
   */
  listRuns?(unit: string, limit: number): Promise<RunRecord[]>;
  /**
   * Batch writes for commands over many units (the etcd registry: one transaction per chunk, see
   * registry/batch-writes.ts). Without them the commands write unit by unit.
   */
  createUnits?(specs: readonly UnitSpec[]): Promise<boolean[]>;
  setDesiredStates?(names: readonly string[], state: DesiredState): Promise<void>;
  destroyUnits?(names: readonly string[]): Promise<boolean[]>;
  /**
   * fleet-ts extension: bumps the unit's restart generation and returns it (etcd: the job record, see
   * registry/restart.ts; API: `POST /units/<name>/restart`). Agents running the unit restart it.
   */
  restartUnit?(name: string): Promise<number>;
  /** fleet-ts extension: drain/undrain (etcd: `machines/<id>/drain`; API: PUT/DELETE `/machines/<id>/drain`). */
  setMachineDrained?(machineID: string, drained: boolean): Promise<void>;
  /** fleet-ts extension: leader, unit counts, heartbeats (etcd driver only). */
  machineHealth?(): Promise<MachineHealth>;
};

type BatchWrites = 'createUnits' | 'setDesiredStates' | 'destroyUnits';

/** What the etcd driver opens: a Registry, with run history when it has one (EtcdRegistry does). */
export type EtcdDriverRegistry = Registry &
  Pick<FleetClient, 'listRuns' | BatchWrites | 'setMachineDrained' | 'machineHealth' | 'restartUnit'>;

/** What opening a client needs; injected so that tests can count connections. */
export interface DriverDeps {
  openEtcd(opts: EtcdConnectionOptions): EtcdDriverRegistry | Promise<EtcdDriverRegistry>;
  /** Forwards host:port through the `--tunnel` host; returns the local address and a closer. */
  openTunnel?(
    g: GlobalOptions,
    targetHost: string,
    targetPort: number,
  ): Promise<{ host: string; port: number; close(): Promise<void> }>;
  /** Bearer token for a TCP API endpoint served with api_token (fleetctl: $FLEETCTL_API_TOKEN). */
  readonly apiToken?: string;
  /** etcd user and password (fleetctl: $FLEETCTL_ETCD_USERNAME, $FLEETCTL_ETCD_PASSWORD). */
  readonly etcdUsername?: string;
  readonly etcdPassword?: string;
}
