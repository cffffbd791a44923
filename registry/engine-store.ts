// What the engine reads and writes in etcd: a consistent snapshot of jobs, machines and the schedule; an
// event stream over exactly those prefixes that resumes from the last revision it delivered (and falls
// back to a fresh snapshot when etcd compacted that revision away); and leader-guarded schedule writes.

import { setTimeout as sleep } from 'node:timers/promises';
import type { IKeyValue, IWatchResponse, Namespace } from 'etcd3';
import {
  type ApplyOptions,
  type EngineStore,
  type EngineUnit,
  type LeaderGuard,
  type ScheduleChange,
  type Snapshot,
  StaleScheduleError,
  type StoreEvent,
  type StoreWatch,
  type WatchHandlers,
} from '../engine/store.js';
import { metrics } from '../metrics/metrics.js';
import type { Logger } from '../units/log.js';
import type { MachineState, ScheduleRecord } from '../units/types.js';
import { MAX_TXN_OPS, prefixEnd, rangePrefix, UnitContentCache } from './etcd-read.js';
import {
  JOB_PREFIX,
  MACHINES_PREFIX,
  machineObjectKey,
  parseMachineKey,
  SCHEDULE_PREFIX,
  scheduleKey,
  splitMachineUnitKey,
} from './keys.js';
import { MachineRecords } from './machine-records.js';
import { decodeJob, decodeMachine, decodeSchedule, encodeSchedule, type JobRecord } from './records.js';
import { requirementsCache } from './requirements-cache.js';
import { prefixRange, type ResumableWatch, type WatchRange, watchRange } from './resumable-watch.js';
import { TimeSlice } from './time-slice.js';
import { chunkChanges } from './txn-chunks.js';
import { NotLeaderError } from './types.js';

const RETRY_MS = 500;

export interface EngineStoreOptions {
  /**
   * etcd's --max-txn-ops (default 128). Larger transactions mean fewer round trips and fewer wake-ups
   * of each agent; raise it only together with the etcd flag.
   */
  readonly maxTxnOps?: number;
  /** Schedule transactions in flight at once (deletes all commit before any put is sent). */
  readonly txnsInFlight?: number;
  /** Where unit contents are read (default: a UnitContentCache over `ns`); tests inject slow reads. */
  readonly contents?: UnitContentReader;
}

/** Unit contents by hash; absent hashes are missing from the result. */
export interface UnitContentReader {
  getMany(hashes: Iterable<string>): Promise<Map<string, string>>;
}

export function createEngineStore(ns: Namespace, log: Logger, opts: EngineStoreOptions = {}): EngineStore {
  const maxTxnOps = opts.maxTxnOps ?? MAX_TXN_OPS;
  const txnsInFlight = Math.max(1, opts.txnsInFlight ?? 4);
  const contents: UnitContentReader = opts.contents ?? new UnitContentCache(ns);
  // The raw machine records of the last snapshot. Each watch starts from a copy and then owns it: a
  // stopped watch still finishing a conversion can never change what a newer snapshot or watch sees.
  let latest: { revision: string; machines: MachineRecords } | null = null;

  /** Engine view of a job: null when its contents are missing or do not parse (logged, never thrown). */
  const requirementsOf = requirementsCache();
  const toEngineUnit = (job: JobRecord, text: string | undefined): EngineUnit | null => {
    if (text === undefined) {
      log.warn({ unit: job.name, hash: job.hash }, 'unit contents missing; unit ignored by the engine');
      return null;
    }
    try {
      const requirements = requirementsOf(job.hash, text);
      return {
        name: job.name,
        hash: job.hash,
        desiredState: job.desiredState,
        requirements,
        ...(job.restart ? { restart: job.restart } : {}),
      };
    } catch (err) {
      log.warn(
        { unit: job.name, err: String(err) },
        'unit contents do not parse; unit ignored by the engine',
      );
      return null;
    }
  };

  // Each malformed version of a record is logged once, not on every reload and watch event.
  const loggedBad = new Set<string>();
  const decodeOrLog = <T>(kv: IKeyValue, decode: (key: string, text: string) => T): T | null => {
    const key = kv.key.toString();
    try {
      return decode(key, kv.value.toString());
    } catch (err) {
      const version = `${key}@${kv.mod_revision}`;
      if (!loggedBad.has(version)) {
        if (loggedBad.size >= 10_000) loggedBad.clear();
        loggedBad.add(version);
        log.warn({ key, err: String(err) }, 'malformed registry record ignored');
      }
      return null;
    }
  };

  const load = async (): Promise<{ snap: Snapshot; machines: MachineRecords }> => {
    const jobs = await rangePrefix(ns, JOB_PREFIX);
    const [machines, schedule] = await Promise.all([
      rangePrefix(ns, MACHINES_PREFIX, jobs.revision),
      rangePrefix(ns, SCHEDULE_PREFIX, jobs.revision),
    ]);
    const slice = new TimeSlice();
    const jobRecords: JobRecord[] = [];
    for (const kv of jobs.kvs) {
      if (slice.due()) await slice.turn();
      const job = decodeOrLog(kv, decodeJob);
      if (job) jobRecords.push(job);
    }
    const texts = await contents.getMany(jobRecords.map((j) => j.hash));
    const units = new Map<string, EngineUnit>();
    for (const job of jobRecords) {
      if (slice.due()) await slice.turn();
      const u = toEngineUnit(job, texts.get(job.hash));
      if (u) units.set(u.name, u);
    }
    const records = new MachineRecords();
    for (const kv of machines.kvs) applyMachineKv(records, kv, 'PUT');
    const machineMap = new Map<string, MachineState>();
    for (const id of records.ids()) {
      const m = records.merged(id);
      if (m) machineMap.set(id, m);
    }
    const sched = new Map<string, Map<string, ScheduleRecord>>();
    for (const kv of schedule.kvs) {
      if (slice.due()) await slice.turn();
      const parts = splitMachineUnitKey(SCHEDULE_PREFIX, kv.key.toString());
      const rec = decodeOrLog(kv, decodeSchedule);
      if (!parts || !rec) continue;
      const m = sched.get(parts.machineID) ?? new Map<string, ScheduleRecord>();
      m.set(parts.unit, rec);
      sched.set(parts.machineID, m);
    }
    const snap = { revision: jobs.revision, state: { units, machines: machineMap, schedule: sched } };
    return { snap, machines: records };
  };

  const loadSnapshot = async (): Promise<Snapshot> => {
    const loaded = await load();
    latest = { revision: loaded.snap.revision, machines: loaded.machines };
    return loaded.snap;
  };

  /** Updates raw machine records; returns the affected machine ID. */
  const applyMachineKv = (records: MachineRecords, kv: IKeyValue, type: 'PUT' | 'DELETE'): string | null => {
    const parsed = parseMachineKey(kv.key.toString());
    if (!parsed) return null;
    if (parsed.kind === 'object') {
      records.setObject(parsed.machineID, type === 'PUT' ? decodeOrLog(kv, decodeMachine) : null);
    } else if (parsed.kind === 'drain') {
      records.setDrained(parsed.machineID, type === 'PUT');
    } else {
      records.setMetadata(parsed.machineID, parsed.key, type === 'PUT' ? kv.value.toString() : null);
    }
    return parsed.machineID;
  };

  /**
   * Converts one watch response into store events (fetching contents of new unit hashes). Machine
   * events update `records`, the watch's own; returns null, touching nothing, once `current()` is false
   * (the watch was stopped or reset while the contents were read).
   */
  const toStoreEvents = async (
    res: IWatchResponse,
    records: MachineRecords,
    current: () => boolean,
  ): Promise<StoreEvent[] | null> => {
    const putJobs = res.events.filter((e) => e.type === 'Put' && e.kv.key.toString().startsWith(JOB_PREFIX));
    const jobs = new Map<IKeyValue, JobRecord | null>();
    for (const e of putJobs) jobs.set(e.kv, decodeOrLog(e.kv, decodeJob));
    const hashes = [...jobs.values()].filter((j) => j !== null).map((j) => j.hash);
    const texts = await contents.getMany(hashes);
    if (!current()) return null;
    const out: StoreEvent[] = [];
    for (const e of res.events) {
      const key = e.kv.key.toString();
      const revision = BigInt(e.kv.mod_revision);
      const type = e.type === 'Put' ? 'PUT' : 'DELETE';
      if (key.startsWith(JOB_PREFIX)) {
        const name = key.slice(JOB_PREFIX.length);
        const job = type === 'PUT' ? (jobs.get(e.kv) ?? null) : null;
        out.push({ kind: 'unit', name, unit: job ? toEngineUnit(job, texts.get(job.hash)) : null, revision });
      } else if (key.startsWith(MACHINES_PREFIX)) {
        const id = applyMachineKv(records, e.kv, type);
        if (id !== null) out.push({ kind: 'machine', id, machine: records.merged(id), revision });
      } else if (key.startsWith(SCHEDULE_PREFIX)) {
        const parts = splitMachineUnitKey(SCHEDULE_PREFIX, key);
        if (!parts) continue;
        const record = type === 'PUT' ? decodeOrLog(e.kv, decodeSchedule) : null;
        out.push({ kind: 'schedule', machineID: parts.machineID, unit: parts.unit, record, revision });
      }
    }
    return out;
  };

  const watch = (fromRevision: string, handlers: WatchHandlers): StoreWatch => {
    let stopped = false;
    const feeds: Feed[] = WATCHED_RANGES.map((range) => ({ range, received: BigInt(fromRevision) }));
    let chain: Promise<void> = Promise.resolve();
    /** Raw machine records as of the events converted so far: this watch's own (see `latest`). */
    let machines = new MachineRecords();

    /** Every feed has received everything up to this revision. */
    const receivedAll = (): string => {
      let min: bigint | undefined;
      for (const f of feeds) {
        const received = f.watch?.received ?? f.received;
        if (min === undefined || received < min) min = received;
      }
      return String(min ?? 0n);
    };

    const retrying = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
      for (;;) {
        if (stopped) return undefined;
        try {
          return await fn();
        } catch (err) {
          log.warn({ err: String(err) }, `${what} failed; retrying`);
          await sleep(RETRY_MS);
        }
      }
    };

    const startFeed = (feed: Feed) => {
      const watch: ResumableWatch = watchRange(ns, feed.range, feed.received, {
        onEvents: (res) => {
          const records = machines;
          const current = () => !stopped && feed.watch === watch && watch.isCurrent();
          // One chain for all feeds: conversions (and the machine records) are applied one at a time.
          chain = chain.then(async () => {
            if (!current()) return;
            const events = await retrying('reading unit contents', () =>
              toStoreEvents(res, records, current),
            );
            if (events && current()) handlers.onEvents(events, receivedAll());
          });
        },
        onCancelled: (err) => {
          // Typically the resume revision was compacted: reload everything.
          if (stopped || feed.watch !== watch) return;
          log.warn({ err: String(err) }, 'engine watch cancelled; reloading a full snapshot');
          metrics.watchRestarts.inc({ watcher: 'engine' });
          cancelFeeds();
          reset();
        },
      });
      feed.watch = watch;
    };

    const start = () => {
      if (stopped) return;
      for (const f of feeds) startFeed(f);
    };

    /** Forgets every feed's watcher (their pending conversions are dropped) and cancels it. */
    const cancelFeeds = (): Promise<unknown> =>
      Promise.all(
        feeds.map((f) => {
          const w = f.watch;
          f.watch = undefined;
          if (w) f.received = w.received;
          return w?.cancel();
        }),
      );

    /** Replaces the caller's state with a fresh snapshot (and this watch's records with its own). */
    const reset = () => {
      chain = chain.then(async () => {
        const loaded = await retrying('reloading snapshot', load);
        if (!loaded || stopped) return;
        for (const f of feeds) f.received = BigInt(loaded.snap.revision);
        machines = loaded.machines;
        handlers.onReset(loaded.snap);
        start();
      });
    };

    if (latest?.revision === fromRevision) {
      machines = latest.machines.clone();
      start();
    } else {
      // The machine records at fromRevision are not known (not the last snapshot's revision).
      log.warn({ fromRevision }, 'engine watch from a revision other than the last snapshot; reloading');
      reset();
    }
    return {
      stop: async () => {
        stopped = true;
        await cancelFeeds();
      },
    };
  };

  const applyChanges = async (
    changes: readonly ScheduleChange[],
    guard: LeaderGuard,
    opts: ApplyOptions = {},
  ): Promise<string | null> => {
    // etcd's --max-txn-ops bounds compares and operations; the leader compare is the one extra.
    const absent = (machineID: string): boolean => opts.present !== undefined && !opts.present.has(machineID);
    const chunks = (list: ScheduleChange[]): ScheduleChange[][] =>
      chunkChanges(list, { perTxn: maxTxnOps - 1, keyCompares: opts.current !== undefined, absent });
    let revision: bigint | null = null;
    const commitChunk = async (chunk: readonly ScheduleChange[]): Promise<void> => {
      if (opts.stillLeader && !opts.stillLeader()) {
        throw new NotLeaderError('engine leadership not proven alive; schedule write withheld');
      }
      let txn = ns.if(guard.key, 'Create', '==', guard.createRevision);
      for (const c of chunk) {
        const key = scheduleKey(c.machineID, c.unit);
        if (opts.current) {
          const believed = opts.current.get(c.machineID)?.has(c.unit) ?? false;
          txn = believed ? txn.and(key, 'Version', '>', 0) : txn.and(key, 'Create', '==', 0);
        }
      }
      // A machine the plan saw absent must still be absent: one re-registering right now keeps its units.
      for (const id of new Set(chunk.map((c) => c.machineID).filter(absent)))
        txn = txn.and(machineObjectKey(id), 'Create', '==', 0);
      const ops = chunk.map((c) => {
        const key = scheduleKey(c.machineID, c.unit);
        return c.kind === 'put' ? ns.put(key).value(encodeSchedule(c.record)) : ns.delete().key(key);
      });
      const res = await txn
        .then(...ops)
        .else(ns.get(guard.key))
        .commit();
      if (!res.succeeded) {
        const holder = res.responses[0]?.response_range?.kvs[0];
        if (holder?.create_revision !== guard.createRevision) throw new NotLeaderError();
        throw new StaleScheduleError();
      }
      const rev = BigInt(res.header.revision);
      if (revision === null || rev > revision) revision = rev;
    };
    /** Commits the chunks with up to txnsInFlight transactions outstanding; the first error wins. */
    const commitAll = async (list: ScheduleChange[][]): Promise<void> => {
      let next = 0;
      let failed = false;
      const worker = async () => {
        for (let c = list[next++]; c && !failed; c = list[next++]) {
          try {
            await commitChunk(c);
          } catch (err) {
            failed = true;
            throw err;
          }
        }
      };
      const results = await Promise.allSettled(
        Array.from({ length: Math.min(txnsInFlight, list.length) }, worker),
      );
      const rejected = results.find((r) => r.status === 'rejected');
      if (rejected) throw (rejected as PromiseRejectedResult).reason;
    };
    // Deletes first, all committed before any put: a move never shows a unit on two machines.
    await commitAll(chunks(changes.filter((c) => c.kind === 'delete')));
    await commitAll(chunks(changes.filter((c) => c.kind === 'put')));
    return revision === null ? null : String(revision);
  };

  return { loadSnapshot, watch, applyChanges };
}

/**
 * The key ranges the engine watches, one watcher each: jobs and machines (adjacent), and the schedule.
 * Not one range from job/ to schedule/: cluster cron's runs/ lies between them and is written on every
 * tick. Events of one feed arrive in revision order; the engine's state is per key, so the order
 * between feeds does not matter (a machine's object and metadata share a feed).
 */
const WATCHED_RANGES: readonly WatchRange[] = [
  { start: JOB_PREFIX, end: prefixEnd(MACHINES_PREFIX) },
  prefixRange(SCHEDULE_PREFIX),
];

/** One watcher of a watch; `received` is where it starts (or stopped). */
interface Feed {
  readonly range: WatchRange;
  received: bigint;
  watch?: ResumableWatch | undefined;
}
