// What a route of the API server is and what it gets: the request, its path captures, and the
// server's context (registry, limits, listing caches). Routes are registered in ./routes.ts.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChangeWatch } from '../registry/change-watch.js';
import type { MachineHealth } from '../registry/ops-records.js';
import type { Registry, UnitStateFilter } from '../registry/types.js';
import type { Logger } from '../units/log.js';
import type { RunRecord } from '../units/runs.js';
import type { UnitStateReport } from '../units/types.js';
import { ApiError } from './http.js';
import type { ListingCache } from './listing-cache.js';
import type { OpsEndpoints } from './ops-http.js';
import type { JournalReader } from './ui/journal.js';

/**
 * What the API needs from the registry. `listRuns` (cluster cron history, the EtcdRegistry has it)
 * serves the fleet-ts extension `GET /units/<name>/runs`; without it that route answers 501.
 * `listUnitStates` gets the request's machine/unit filter so that it can read less (the EtcdRegistry
 * reads one machine's prefix); a registry may ignore it: the handler filters the reports itself.
 */
export type ApiRegistry = Pick<
  Registry,
  | 'listUnits'
  | 'getUnit'
  | 'listMachines'
  | 'createUnit'
  | 'setDesiredState'
  | 'destroyUnit'
  | 'setMachineMetadata'
> & {
  listUnitStates(filter?: UnitStateFilter): Promise<UnitStateReport[]>;
  listRuns?(unit: string, limit?: number): Promise<RunRecord[]>;
  setMachineDrained?(machineID: string, drained: boolean): Promise<void>;
  /** fleet-ts extension: POST /units/<name>/restart (registry/restart.ts). */
  restartUnit?(name: string): Promise<number>;
  /** fleet-ts extensions used by the web console (api/ui/): machine health and a change feed. */
  machineHealth?(): Promise<MachineHealth>;
  watchChanges?(onChange: () => void): Promise<ChangeWatch>;
  /** The console's journal of a unit on another machine, read by that machine's fleetd. */
  readMachineJournal?(machineID: string, unit: string, lines: number): Promise<string[]>;
};

export interface ApiContext {
  /** The registry now (fleetd swaps it on SIGHUP): read it once per request. */
  registry(): ApiRegistry;
  /** Page size (fleet's `token_limit`). */
  readonly tokenLimit: number;
  /** Largest request body accepted. */
  readonly maxBodyBytes: number;
  readonly log: Logger;
  /** /metrics and /health; absent: those paths are 404. */
  readonly ops?: OpsEndpoints;
  /** The console's journal reader (this machine's journal); absent: the journal route is 501. */
  readonly journal?: JournalReader;
  /** The listing cache called `name` (one per paged endpoint); emptied when the registry is swapped. */
  listings<T>(name: string): ListingCache<T>;
}

export interface ApiCall {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  readonly query: URLSearchParams;
  /** The captures of the route's `path`, still percent-encoded. */
  readonly params: readonly string[];
}

export interface ApiRoute {
  /** Matched against the path below `/fleet/v1` (or `/v1-alpha`); with `root`, against the whole path. */
  readonly path: RegExp;
  readonly root?: boolean;
  serve(call: ApiCall, ctx: ApiContext): Promise<void>;
}

/** Runs the handler of the request's method; any other method is `status` (405) with `notAllowed`. */
export function byMethod(
  call: ApiCall,
  handlers: Readonly<Record<string, () => Promise<void>>>,
  notAllowed: string,
  status = 405,
): Promise<void> {
  const handle = Object.hasOwn(handlers, call.method) ? handlers[call.method] : undefined;
  if (!handle) throw new ApiError(status, notAllowed);
  return handle();
}
