// Reading registry records out of etcd key-values: decoding that skips malformed records, grouping
// by unit, machines with their metadata merged.

import type { IKeyValue, Namespace } from 'etcd3';
import { compareStrings } from '../units/common.js';
import type { MachineState } from '../units/types.js';
import { mergeMachineMetadata } from './current-state.js';
import { parseMachineKey, splitMachineUnitKey } from './keys.js';
import { decodeMachine } from './records.js';

export async function getKv(ns: Namespace, key: string): Promise<IKeyValue | undefined> {
  // SingleRangeBuilder.exec() returns prefixed keys; only value/revisions are used here.
  const res = await ns.get(key).exec();
  return res.kvs[0];
}

export const textKv = (kv: IKeyValue): { key: string; value: string } => ({
  key: kv.key.toString(),
  value: kv.value.toString(),
});

export function decodeAll<T>(kvs: readonly IKeyValue[], decode: (key: string, text: string) => T): T[] {
  const out: T[] = [];
  for (const kv of kvs) {
    const key = kv.key.toString();
    try {
      out.push(decode(key, kv.value.toString()));
    } catch {
      // A malformed record is skipped on read (it would otherwise make the whole listing fail); the
      // engine store logs it.
    }
  }
  return out;
}

/** The decodable values among `values` of each machine's key, by machine (a malformed one is skipped). */
export function decodeEach<T>(
  machines: readonly string[],
  keyOf: (machineID: string) => string,
  values: ReadonlyMap<string, string>,
  decode: (key: string, text: string) => T,
): Map<string, T> {
  const out = new Map<string, T>();
  for (const machineID of machines) {
    const key = keyOf(machineID);
    const text = values.get(key);
    if (text === undefined) continue;
    try {
      out.set(machineID, decode(key, text));
    } catch {
      // skipped: see decodeAll
    }
  }
  return out;
}

/** `schedule/<m>/<u>` or `state/<m>/<u>` key-values grouped by unit name. */
export function groupByUnit<T>(
  kvs: readonly IKeyValue[],
  prefix: string,
  decode: (key: string, text: string) => T,
): Map<string, { machineID: string; record: T }[]> {
  const out = new Map<string, { machineID: string; record: T }[]>();
  for (const kv of kvs) {
    const key = kv.key.toString();
    const parts = splitMachineUnitKey(prefix, key);
    if (!parts) continue;
    let record: T;
    try {
      record = decode(key, kv.value.toString());
    } catch {
      continue;
    }
    const list = out.get(parts.unit) ?? [];
    list.push({ machineID: parts.machineID, record });
    out.set(parts.unit, list);
  }
  return out;
}

/** Present machines (those with an `object` key) with dynamic metadata merged, sorted by ID. */
export function machinesFromKvs(kvs: readonly IKeyValue[]): MachineState[] {
  const objects = new Map<string, MachineState>();
  const dynamic = new Map<string, Map<string, string>>();
  const drained = new Set<string>();
  for (const kv of kvs) {
    const key = kv.key.toString();
    const parsed = parseMachineKey(key);
    if (!parsed) continue;
    if (parsed.kind === 'object') {
      try {
        objects.set(parsed.machineID, decodeMachine(key, kv.value.toString()));
      } catch {
        // skipped: see decodeAll
      }
    } else if (parsed.kind === 'drain') {
      drained.add(parsed.machineID);
    } else {
      const md = dynamic.get(parsed.machineID) ?? new Map<string, string>();
      md.set(parsed.key, kv.value.toString());
      dynamic.set(parsed.machineID, md);
    }
  }
  return [...objects.entries()]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([id, m]) => mergeMachineMetadata({ ...m, id }, dynamic.get(id) ?? new Map()))
    .map((m) => (drained.has(m.id) ? { ...m, drained: true } : m));
}
