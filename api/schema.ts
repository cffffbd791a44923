// fleet's API v1 wire schema (fleet's schema/v1.json plus the fleet-ts extensions), shared by the
// server (api/entities.ts builds these from registry data) and fleetctl's API client
// (cli/fleetctl/api-client.ts reads them back). Every field is optional on the wire: fleet omits
// empty ones.

export interface ApiUnitOption {
  readonly name?: string;
  readonly section?: string;
  readonly value?: string;
}

export interface ApiUnit {
  readonly currentState?: string;
  readonly desiredState?: string;
  readonly machineID?: string;
  readonly name?: string;
  readonly options?: ApiUnitOption[];
  /** fleet-ts extension: why the engine cannot place the unit; absent when it can. */
  readonly reason?: string;
}

export interface ApiUnitState {
  readonly hash?: string;
  /** fleet-ts extension: the unit's HealthCheck= result ({status, detail?}); absent without one. */
  readonly health?: { readonly status?: string; readonly detail?: string };
  readonly machineID?: string;
  readonly name?: string;
  /** fleet-ts extension: the restart generation the agent applied (POST /units/<name>/restart); absent = 0. */
  readonly restartGeneration?: number;
  readonly systemdActiveState?: string;
  readonly systemdLoadState?: string;
  readonly systemdSubState?: string;
}

export interface ApiMachine {
  /** fleet-ts extension: true while the machine is drained; absent otherwise. */
  readonly drained?: boolean;
  readonly id?: string;
  readonly metadata?: Record<string, string>;
  readonly primaryIP?: string;
}

/** fleet-ts extension (cluster cron): one run of a scheduled unit. */
export interface ApiRun {
  readonly endedAt?: string;
  readonly exitStatus?: number;
  readonly late?: boolean;
  readonly machineID?: string;
  readonly reason?: string;
  readonly result?: string;
  readonly startedAt?: string;
  readonly status?: string;
  readonly tick?: string;
  readonly unit?: string;
}

/** The body of every error reply. */
export interface ApiErrorBody {
  readonly error: { readonly code: number; readonly message: string };
}

/** The list key of each paged collection (the page is `{<key>: [...], nextPageToken}`). */
export type ApiPageKey = 'units' | 'states' | 'machines';

/** The message of an `ApiErrorBody`, undefined for any other body. */
export function apiErrorMessage(body: string): string | undefined {
  try {
    const m = (JSON.parse(body) as { error?: { message?: unknown } } | null)?.error?.message;
    return typeof m === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}
