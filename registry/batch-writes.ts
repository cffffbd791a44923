// Batch forms of the registry's per-unit writes, for fleetctl commands over many units (`start` of 300
// units was 900 sequential etcd round trips). Each chunk is ONE transaction with a compare per unit, so
// it either applies to every unit of the chunk or to none; when it does not apply (another writer
// touched one of the units in between), the chunk falls back to the per-unit write, which decides each
// unit exactly as before. Chunks stay within etcd's default --max-txn-ops (128 compares and 128 ops).
import type { Namespace } from 'etcd3';
import { serializeUnit, unitHash } from '../units/serialize.js';
import type { DesiredState, UnitSpec } from '../units/types.js';
import { MAX_TXN_OPS } from './etcd-read.js';
import { jobKey, unitContentKey } from './keys.js';
import { assertSubmittable, assertUnitName } from './names-guard.js';
import { decodeJob, encodeJob, type JobRecord } from './records.js';
import { unitRunsPrefix } from './runs.js';

/** The per-unit writes a chunk falls back to. */
export interface SingleWrites {
  createUnit(spec: UnitSpec): Promise<boolean>;
  setDesiredState(name: string, state: DesiredState): Promise<void>;
  destroyUnit(name: string): Promise<boolean>;
}

const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** Chunks written at once: the engine then sees a 300-unit `start` as one burst and plans it once. */
const CHUNKS_IN_FLIGHT = 8;

/**
 * `write` for every chunk, CHUNKS_IN_FLIGHT at a time when the chunks are independent (no name in two
 * of them), else one after the other; the results in chunk order.
 */
async function eachChunk<T, R>(
  items: readonly T[],
  size: number,
  independent: boolean,
  write: (chunk: T[]) => Promise<R[]>,
): Promise<R[]> {
  const all = chunks(items, size);
  const results: R[][] = new Array(all.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < all.length; i = next++) results[i] = await write(all[i] as T[]);
  };
  await Promise.all(Array.from({ length: independent ? CHUNKS_IN_FLIGHT : 1 }, worker));
  return results.flat();
}

/** A transaction whose compares are all of `compares` (etcd ANDs them). */
function txnIf(ns: Namespace, compares: readonly [string, 'Create' | 'Mod', '==' | '>', number | string][]) {
  const [first, ...rest] = compares;
  if (!first) throw new Error('a batch needs at least one unit');
  const txn = ns.if(...first);
  for (const c of rest) txn.and(...c);
  return txn;
}

/**
 * Creates the units that do not exist yet (create-only, as createUnit without replace): true per spec
 * when it was created. Contents are written once per hash in each chunk.
 */
export async function createUnitsBatch(
  ns: Namespace,
  specs: readonly UnitSpec[],
  single: SingleWrites,
  remember: (hash: string, text: string) => void,
): Promise<boolean[]> {
  // Every unit is checked before anything is written: a bad one fails the call with nothing created.
  const texts = specs.map((spec) => {
    assertSubmittable(spec.name, spec.options);
    const hash = unitHash(spec.options);
    if (hash !== spec.hash) {
      throw new Error(`unit ${spec.name}: hash ${spec.hash} does not match its contents (${hash})`);
    }
    return serializeUnit(spec.options);
  });
  const textOf = new Map(specs.map((spec, i) => [spec, texts[i] as string]));
  const independent = new Set(specs.map((s) => s.name)).size === specs.length;
  // Each unit costs one compare and at most two puts (its job, its contents when not yet in the chunk).
  return eachChunk(specs, MAX_TXN_OPS / 2, independent, async (chunk) => {
    const out: boolean[] = [];
    if (new Set(chunk.map((s) => s.name)).size < chunk.length) {
      // A name twice: one transaction cannot put a key twice; the per-unit path creates it once.
      for (const spec of chunk) out.push(await single.createUnit(spec));
      return out;
    }
    const contents = new Map<string, string>();
    const jobs: [string, string][] = [];
    for (const spec of chunk) {
      const hash = spec.hash;
      contents.set(hash, textOf.get(spec) as string);
      const job: JobRecord = {
        name: spec.name,
        hash,
        desiredState: spec.desiredState,
        ...(spec.origin !== undefined ? { origin: spec.origin } : {}),
      };
      jobs.push([jobKey(spec.name), encodeJob(job)]);
    }
    const res = await txnIf(
      ns,
      jobs.map(([k]) => [k, 'Create', '==', 0]),
    )
      .then(
        ...[...contents].map(([hash, text]) => ns.put(unitContentKey(hash)).value(text)),
        ...jobs.map(([k, v]) => ns.put(k).value(v)),
      )
      .commit();
    if (res.succeeded) {
      for (const [hash, text] of contents) remember(hash, text);
      out.push(...chunk.map(() => true));
    } else {
      for (const spec of chunk) out.push(await single.createUnit(spec));
    }
    return out;
  });
}

/** Sets the desired state of every named unit (throws UnitNotFoundError as setDesiredState does). */
export async function setDesiredStatesBatch(
  ns: Namespace,
  names: readonly string[],
  state: DesiredState,
  single: SingleWrites,
): Promise<void> {
  const unique = [...new Set(names)];
  for (const n of unique) assertUnitName(n);
  await eachChunk(unique, MAX_TXN_OPS, true, async (chunk) => {
    // Read the jobs in one round trip (a transaction whose compare always holds), then write those
    // that change with a compare on each one's revision.
    const read = await txnIf(ns, [[jobKey(chunk[0] ?? ''), 'Create', '>', -1]])
      .then(...chunk.map((n) => ns.get(jobKey(n))))
      .commit();
    const writes: { name: string; mod: string; value: string }[] = [];
    let missing = false;
    chunk.forEach((name, i) => {
      const kv = read.responses[i]?.response_range?.kvs[0];
      if (!kv) {
        missing = true;
        return;
      }
      const job = decodeJob(jobKey(name), kv.value.toString());
      if (job.desiredState !== state) {
        writes.push({ name, mod: kv.mod_revision, value: encodeJob({ ...job, desiredState: state }) });
      }
    });
    if (missing) {
      for (const n of chunk) await single.setDesiredState(n, state);
      return [];
    }
    if (writes.length === 0) return [];
    const res = await txnIf(
      ns,
      writes.map((w) => [jobKey(w.name), 'Mod', '==', w.mod]),
    )
      .then(...writes.map((w) => ns.put(jobKey(w.name)).value(w.value)))
      .commit();
    if (!res.succeeded) for (const w of writes) await single.setDesiredState(w.name, state);
    return [];
  });
}

/** Destroys the named units (job and cron run records); true per name when it existed. */
export async function destroyUnitsBatch(
  ns: Namespace,
  names: readonly string[],
  single: SingleWrites,
): Promise<boolean[]> {
  for (const n of names) assertUnitName(n);
  // Each unit: one compare (it exists) and two deletes (its job, its run records).
  return eachChunk(names, MAX_TXN_OPS / 2, new Set(names).size === names.length, async (chunk) => {
    const out: boolean[] = [];
    const unique = [...new Set(chunk)];
    const res =
      unique.length === chunk.length
        ? await txnIf(
            ns,
            chunk.map((n) => [jobKey(n), 'Create', '>', 0]),
          )
            .then(
              ...chunk.flatMap((n) => [ns.delete().key(jobKey(n)), ns.delete().prefix(unitRunsPrefix(n))]),
            )
            .commit()
        : { succeeded: false };
    if (res.succeeded) out.push(...chunk.map(() => true));
    else for (const n of chunk) out.push(await single.destroyUnit(n));
    return out;
  });
}
