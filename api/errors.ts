// Which HTTP status and message an error thrown while serving a request becomes.

import { InvalidNameError } from '../registry/names-guard.js';
import { UnitNotFoundError } from '../registry/types.js';
import { BodyError } from './decode.js';
import { ApiError } from './http.js';

/** Matches errors that mean etcd did not answer (fleet: 503 "unable to communicate with etcd"). */
export function isEtcdUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return /GRPC(ConnectFailed|Unavailable|DeadlineExceeded|Cancelled)|RegistryUnavailable|ECONNREFUSED|UNAVAILABLE|DEADLINE_EXCEEDED|failed to connect|deadline/i.test(
    `${err.name} ${err.constructor.name} ${err.message}`,
  );
}

export interface ErrorReply {
  readonly status: number;
  readonly message: string;
  /** How the failure is logged: etcd outages are warnings, anything unexpected an error. */
  readonly log?: 'warn' | 'error';
}

/** fleet's status and message for `err`; unexpected errors are 500 with an empty message, as fleet's. */
export function errorReply(err: unknown): ErrorReply {
  if (err instanceof ApiError) return { status: err.status, message: err.message };
  if (err instanceof InvalidNameError || err instanceof BodyError)
    return { status: 400, message: err.message };
  if (err instanceof UnitNotFoundError) return { status: 404, message: 'unit does not exist' };
  if (isEtcdUnavailable(err))
    return { status: 503, message: 'fleet server unable to communicate with etcd', log: 'warn' };
  return { status: 500, message: '', log: 'error' };
}
