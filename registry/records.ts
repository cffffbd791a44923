// JSON values stored in the registry (layout in ./types.ts) and their strict decoders. Every value read
// from etcd goes through one of these: a malformed record (hand-edited key, older/newer writer) is
// rejected with a one-line reason instead of flowing into the scheduler as `undefined` fields.

import type { HealthReport, HealthStatus } from '../units/health-check.js';
import { isDesiredState } from '../units/states.js';
import type { DesiredState, MachineState, ScheduleRecord, StateRecord } from '../units/types.js';
import { JOB_PREFIX } from './keys.js';

/** job/<unit> */
export interface JobRecord {
  readonly name: string;
  readonly hash: string;
  readonly desiredState: DesiredState;
  readonly origin?: string;
  /** fleet-ts extension: restart generation, bumped by `fleetctl restart` (./restart.ts). Absent = 0. */
  readonly restart?: number;
}

export class RecordDecodeError extends Error {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`bad registry record ${key}: ${reason}`);
    this.name = 'RecordDecodeError';
  }
}

type Obj = Record<string, unknown>;

/** The JSON object stored under `key`; every record decoder (here and in ./runs.ts) starts with it. */
export function parseRecordObject(key: string, text: string): Obj {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RecordDecodeError(key, 'not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RecordDecodeError(key, 'not a JSON object');
  }
  return value as Obj;
}

function str(key: string, o: Obj, field: string): string {
  const v = o[field];
  if (typeof v !== 'string') throw new RecordDecodeError(key, `field ${field} is not a string`);
  return v;
}

/** An optional restart generation: absent, or a non-negative safe integer. */
function generation(key: string, o: Obj): number | undefined {
  const v = o.restart;
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new RecordDecodeError(key, 'field restart is not a non-negative integer');
  }
  return v;
}

/** Spreads `{restart}` only for a generation above 0 (records without restarts stay as they were). */
const withGeneration = (g: number | undefined): { restart?: number } => (g ? { restart: g } : {});

const HASH_RE = /^[0-9a-f]{40}$/;

function hash(key: string, o: Obj): string {
  const h = str(key, o, 'hash');
  if (!HASH_RE.test(h)) throw new RecordDecodeError(key, 'field hash is not a 40-char sha1 hex');
  return h;
}

export function decodeJob(key: string, text: string): JobRecord {
  const o = parseRecordObject(key, text);
  const desiredState = o.desiredState;
  if (!isDesiredState(desiredState)) throw new RecordDecodeError(key, 'bad desiredState');
  const origin = o.origin;
  if (origin !== undefined && typeof origin !== 'string') throw new RecordDecodeError(key, 'bad origin');
  const name = str(key, o, 'name');
  // A record naming another unit than its key (written by hand or by a hostile client) would make the
  // engine's snapshot (by value) and its watch (by key) disagree: refused.
  if (key.startsWith(JOB_PREFIX) && name !== key.slice(JOB_PREFIX.length)) {
    throw new RecordDecodeError(key, `field name ${JSON.stringify(name)} differs from the key`);
  }
  return {
    name,
    hash: hash(key, o),
    desiredState,
    ...(origin !== undefined ? { origin } : {}),
    ...withGeneration(generation(key, o)),
  };
}

export function encodeJob(job: JobRecord): string {
  return JSON.stringify(job);
}

export function decodeSchedule(key: string, text: string): ScheduleRecord {
  const o = parseRecordObject(key, text);
  const desiredState = o.desiredState;
  if (desiredState !== 'loaded' && desiredState !== 'launched') {
    throw new RecordDecodeError(key, 'bad desiredState');
  }
  const global = o.global;
  if (global !== undefined && typeof global !== 'boolean') throw new RecordDecodeError(key, 'bad global');
  const run = o.run;
  if (run !== undefined && typeof run !== 'string') throw new RecordDecodeError(key, 'bad run');
  return {
    hash: hash(key, o),
    desiredState,
    ...(global ? { global: true } : {}),
    ...(run !== undefined ? { run } : {}),
    ...withGeneration(generation(key, o)),
  };
}

export function encodeSchedule(rec: ScheduleRecord): string {
  return JSON.stringify(rec);
}

export function decodeState(key: string, text: string): StateRecord {
  const o = parseRecordObject(key, text);
  const agentState = o.agentState;
  if (agentState !== 'loaded' && agentState !== 'launched') {
    throw new RecordDecodeError(key, 'bad agentState');
  }
  return {
    hash: str(key, o, 'hash'),
    load: str(key, o, 'load'),
    active: str(key, o, 'active'),
    sub: str(key, o, 'sub'),
    agentState,
    ...withGeneration(generation(key, o)),
    ...decodeHealth(key, o.health),
  };
}

const HEALTH_STATUSES: readonly string[] = ['pending', 'healthy', 'unhealthy'];

/** StateRecord.health: absent, or {status, detail?} (units/health-check.ts). */
function decodeHealth(key: string, v: unknown): { health?: HealthReport } {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RecordDecodeError(key, 'bad health');
  const { status, detail } = v as Obj;
  if (typeof status !== 'string' || !HEALTH_STATUSES.includes(status)) {
    throw new RecordDecodeError(key, 'bad health status');
  }
  if (detail !== undefined && typeof detail !== 'string') {
    throw new RecordDecodeError(key, 'bad health detail');
  }
  return { health: { status: status as HealthStatus, ...(detail !== undefined ? { detail } : {}) } };
}

export function encodeState(rec: StateRecord): string {
  return JSON.stringify(rec);
}

export function decodeMachine(key: string, text: string): MachineState {
  const o = parseRecordObject(key, text);
  const md = o.metadata ?? {};
  if (typeof md !== 'object' || md === null || Array.isArray(md)) {
    throw new RecordDecodeError(key, 'bad metadata');
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(md)) {
    if (typeof v !== 'string') throw new RecordDecodeError(key, `metadata ${k} is not a string`);
    metadata[k] = v;
  }
  return {
    id: str(key, o, 'id'),
    publicIP: typeof o.publicIP === 'string' ? o.publicIP : '',
    metadata,
    version: typeof o.version === 'string' ? o.version : '',
    disableEngine: o.disableEngine === true,
  };
}

export function encodeMachine(m: MachineState): string {
  return JSON.stringify(m);
}
