// fleet-ts extension records for operators (docs/operations.md):
// Design notes: docs/architecture.md, "registry/ops-records.ts".

import type { Namespace } from 'etcd3';
import { rangePrefix } from './etcd-read.js';
import {
  ENGINE_LEADER_KEY,
  MACHINES_PREFIX,
  machineDrainKey,
  parseMachineKey,
  SCHEDULE_PREFIX,
  splitMachineUnitKey,
} from './keys.js';
import { parseRecordObject } from './records.js';
import { NotLeaderError } from './types.js';

export const UNPLACED_PREFIX = 'unplaced/';
export const unplacedKey = (unit: string): string => `${UNPLACED_PREFIX}${unit}`;

export interface UnplacedRecord {
  readonly reason: string;
  /** ISO time the reason was first recorded. */
  readonly since: string;
}

export function decodeUnplaced(key: string, text: string): UnplacedRecord {
  const o = parseRecordObject(key, text);
  return {
    reason: typeof o.reason === 'string' ? o.reason : '',
    since: typeof o.since === 'string' ? o.since : '',
  };
}

/** All recorded reasons, by unit (malformed records are skipped); at `revision` when given. */
export async function listUnplaced(ns: Namespace, revision?: string): Promise<Map<string, UnplacedRecord>> {
  const { kvs } = await rangePrefix(ns, UNPLACED_PREFIX, revision);
  const out = new Map<string, UnplacedRecord>();
  for (const kv of kvs) {
    const key = kv.key.toString();
    try {
      out.set(key.slice(UNPLACED_PREFIX.length), decodeUnplaced(key, kv.value.toString()));
    } catch {
      // a malformed record explains nothing; the engine overwrites it on its next change
    }
  }
  return out;
}

/** The reason of one unit, or null. */
export async function getUnplaced(ns: Namespace, unit: string): Promise<UnplacedRecord | null> {
  if (unit === '' || unit.includes('/')) return null;
  const text = await ns.get(unplacedKey(unit)).string();
  if (text === null) return null;
  try {
    return decodeUnplaced(unplacedKey(unit), text);
  } catch {
    return null;
  }
}

export interface Guard {
  readonly key: string;
  readonly createRevision: string;
}

/** Writes reasons (put) and clears them (null), in leader-guarded transactions of at most 100 ops. */
export async function writeUnplaced(
  ns: Namespace,
  changes: ReadonlyMap<string, UnplacedRecord | null>,
  guard: Guard,
): Promise<void> {
  const entries = [...changes];
  for (let i = 0; i < entries.length; i += 100) {
    const ops = entries
      .slice(i, i + 100)
      .map(([unit, rec]) =>
        rec ? ns.put(unplacedKey(unit)).value(JSON.stringify(rec)) : ns.delete().key(unplacedKey(unit)),
      );
    const res = await ns
      .if(guard.key, 'Create', '==', guard.createRevision)
      .then(...ops)
      .commit();
    if (!res.succeeded) throw new NotLeaderError();
  }
}

/** Marks (drained=true) or unmarks the machine as drained. */
export async function setMachineDrained(ns: Namespace, machineID: string, drained: boolean): Promise<void> {
  if (drained) {
    await ns
      .if(machineDrainKey(machineID), 'Create', '==', 0)
      .then(ns.put(machineDrainKey(machineID)).value(JSON.stringify({ since: new Date().toISOString() })))
      .commit();
  } else {
    await ns.delete().key(machineDrainKey(machineID));
  }
}

/** What `list-machines` shows beyond fleet: the engine leader, unit counts and agent heartbeats. */
export interface MachineHealth {
  /** Machine ID of the engine leader, if there is one. */
  readonly leader?: string;
  /** machine ID -> schedule entries (units placed there, globals included). */
  readonly units: ReadonlyMap<string, number>;
  /** machine ID -> seconds since the agent last renewed its lease (granted TTL minus remaining). */
  readonly heartbeatAge: ReadonlyMap<string, number>;
}

export async function readMachineHealth(ns: Namespace): Promise<MachineHealth> {
  const [leader, schedule, machines] = await Promise.all([
    ns.get(ENGINE_LEADER_KEY).string(),
    ns.getAll().prefix(SCHEDULE_PREFIX).keys(),
    rangePrefix(ns, MACHINES_PREFIX),
  ]);
  const units = new Map<string, number>();
  for (const key of schedule) {
    const parts = splitMachineUnitKey(SCHEDULE_PREFIX, key);
    if (parts) units.set(parts.machineID, (units.get(parts.machineID) ?? 0) + 1);
  }
  const heartbeatAge = new Map<string, number>();
  await Promise.all(
    machines.kvs.map(async (kv) => {
      const parsed = parseMachineKey(kv.key.toString());
      if (parsed?.kind !== 'object' || kv.lease === '0') return;
      try {
        const ttl = await ns.leaseClient.leaseTimeToLive({ ID: kv.lease });
        const remaining = Number(ttl.TTL);
        if (remaining >= 0)
          heartbeatAge.set(parsed.machineID, Math.max(0, Number(ttl.grantedTTL) - remaining));
      } catch {
        // lease gone meanwhile: no heartbeat to show
      }
    }),
  );
  return { ...(leader ? { leader } : {}), units, heartbeatAge };
}
