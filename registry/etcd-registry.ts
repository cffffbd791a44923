// The Registry (./types.ts) on etcd v3. Reads are a handful of prefix ranges whatever the number of
// units (unit contents are cached by hash: they are content-addressed and immutable); every write is a
// single transaction, so a crash never leaves half a unit behind.

import type { Etcd3, Namespace } from 'etcd3';
import { compareStrings } from '../units/common.js';
import { parseUnitFile } from '../units/parse.js';
import type { RunRecord } from '../units/runs.js';
import { serializeUnit, unitHash } from '../units/serialize.js';
import type {
  DesiredState,
  MachineState,
  Placement,
  ScheduleRecord,
  StateRecord,
  UnitOption,
  UnitSpec,
  UnitStateReport,
} from '../units/types.js';
import { isGlobalUnit } from '../units/xfleet.js';
import { createUnitsBatch, destroyUnitsBatch, setDesiredStatesBatch } from './batch-writes.js';
import { type ChangeWatch, watchChanges } from './change-watch.js';
import { createEtcdClient } from './client.js';
import { deriveCurrentState } from './current-state.js';
import { getKeysAt, prefixKeys, rangePrefix, UnitContentCache } from './etcd-read.js';
import { requestJournal } from './journal-relay.js';
import {
  JOB_PREFIX,
  jobKey,
  MACHINES_PREFIX,
  machineMetadataKey,
  machineStatePrefix,
  SCHEDULE_PREFIX,
  STATE_PREFIX,
  scheduleKey,
  splitMachineUnitKey,
  unitContentKey,
  unitStateKey,
} from './keys.js';
import { decodeAll, decodeEach, getKv, groupByUnit, machinesFromKvs, textKv } from './kv-decode.js';
import { assertMachineID, assertSubmittable, assertUnitName } from './names-guard.js';
import {
  getUnplaced,
  listUnplaced,
  type MachineHealth,
  readMachineHealth,
  setMachineDrained,
} from './ops-records.js';
import { decodeJob, decodeSchedule, decodeState, encodeJob, type JobRecord } from './records.js';
import { bumpRestartGeneration } from './restart.js';
import { listRuns, unitRunsPrefix } from './runs.js';
import { shareChangeWatch } from './shared-change-watch.js';
import {
  type CreateUnitOptions,
  type EtcdConnectionOptions,
  type Registry,
  UnitNotFoundError,
  type UnitStateFilter,
  type UnitWithTarget,
} from './types.js';

export interface EtcdRegistry extends Registry {
  /** The namespaced client (keys relative to the prefix), for the engine/agent stores. */
  readonly ns: Namespace;
  /** Cluster cron run records of a unit, newest first (./runs.ts); served by the API's runs extension. */
  listRuns(unit: string, limit?: number): Promise<RunRecord[]>;
  /** fleet-ts extension: bumps the unit's restart generation, returns the new one (./restart.ts). */
  restartUnit(name: string): Promise<number>;
  /** fleet-ts extension: drain (true) or undrain a machine (docs/operations.md). */
  setMachineDrained(machineID: string, drained: boolean): Promise<void>;
  /** fleet-ts extension: engine leader, unit counts and heartbeat ages for list-machines. */
  machineHealth(): Promise<MachineHealth>;
  /** fleet-ts extension: calls `onChange` after any change under the prefix; one etcd watch shared by all
   * callers (./shared-change-watch.ts). */
  watchChanges(onChange: () => void): Promise<ChangeWatch>;
  /** fleet-ts extension: journal lines of a unit, read by fleetd on `machineID` (./journal-relay.ts). */
  readMachineJournal(machineID: string, unit: string, lines: number): Promise<string[]>;
  /** The state reports matching `filter` (all without one), sorted by (unit, machineID). */
  listUnitStates(filter?: UnitStateFilter): Promise<UnitStateReport[]>;
  /** Batch forms for commands over many units (./batch-writes.ts): a transaction per chunk. */
  createUnits(specs: readonly UnitSpec[]): Promise<boolean[]>;
  setDesiredStates(names: readonly string[], state: DesiredState): Promise<void>;
  destroyUnits(names: readonly string[]): Promise<boolean[]>;
}

/** Attempts of an optimistic read-modify-write before giving up (another writer kept winning). */
const CAS_ATTEMPTS = 10;

export function openEtcdRegistry(opts: EtcdConnectionOptions): EtcdRegistry {
  const client: Etcd3 = createEtcdClient(opts);
  return etcdRegistryOn(client.namespace(opts.keyPrefix), () => client.close());
}

/** A registry over an existing namespaced client (the caller owns the connection unless `close` is given). */
export function etcdRegistryOn(ns: Namespace, close: () => void = () => {}): EtcdRegistry {
  const contents = new UnitContentCache(ns);

  const optionsOf = async (hashes: Iterable<string>): Promise<Map<string, UnitOption[]>> => {
    const texts = await contents.getMany(hashes);
    const out = new Map<string, UnitOption[]>();
    for (const [h, text] of texts) out.set(h, parseUnitFile(text));
    return out;
  };

  const toUnit = (
    job: JobRecord,
    options: UnitOption[] | undefined,
    scheduledOn: readonly { machineID: string; record: ScheduleRecord }[],
    reportOf: (machineID: string) => StateRecord | undefined,
    reason?: string,
  ): UnitWithTarget => {
    const opts = options ?? [];
    const global = isGlobalUnit(opts) || scheduledOn.some((s) => s.record.global === true);
    // Non-global units have at most one placement; the lowest machine ID makes a (should-not-happen)
    // duplicate show deterministically.
    const target = global
      ? undefined
      : [...scheduledOn].sort((a, b) => compareStrings(a.machineID, b.machineID))[0];
    const currentState = deriveCurrentState({
      global,
      targetMachine: target?.machineID,
      reportedByTarget: target ? reportOf(target.machineID)?.agentState : undefined,
    });
    return {
      name: job.name,
      hash: job.hash,
      options: opts,
      desiredState: job.desiredState,
      ...(job.origin !== undefined ? { origin: job.origin } : {}),
      ...(target ? { machineID: target.machineID } : {}),
      global,
      ...(currentState !== undefined ? { currentState } : {}),
      ...(reason ? { reason } : {}),
    };
  };

  const listUnits = async (): Promise<UnitWithTarget[]> => {
    const jobs = await rangePrefix(ns, JOB_PREFIX);
    // Schedule and states at the same revision: one consistent picture.
    const [schedule, states, unplaced] = await Promise.all([
      rangePrefix(ns, SCHEDULE_PREFIX, jobs.revision),
      rangePrefix(ns, STATE_PREFIX, jobs.revision),
      listUnplaced(ns, jobs.revision),
    ]);
    const jobRecords = decodeAll(jobs.kvs, decodeJob);
    const placements = groupByUnit(schedule.kvs, SCHEDULE_PREFIX, decodeSchedule);
    const reports = groupByUnit(states.kvs, STATE_PREFIX, decodeState);
    const options = await optionsOf(jobRecords.map((j) => j.hash));
    return jobRecords
      .map((job) =>
        toUnit(
          job,
          options.get(job.hash),
          placements.get(job.name) ?? [],
          (m) => reports.get(job.name)?.find((r) => r.machineID === m)?.record,
          unplaced.get(job.name)?.reason,
        ),
      )
      .sort((a, b) => compareStrings(a.name, b.name));
  };

  const getUnit = async (name: string): Promise<UnitWithTarget | null> => {
    assertUnitName(name);
    const res = await ns.get(jobKey(name)).exec();
    const kv = res.kvs[0];
    if (!kv) return null;
    const revision = res.header.revision;
    const job = decodeJob(jobKey(name), kv.value.toString());
    // No index from unit to machine: the schedule's keys (no values) say where the unit is placed; then
    // only those placements and their state reports are read. All at the job's revision.
    const machines: string[] = [];
    for (const key of await prefixKeys(ns, SCHEDULE_PREFIX, revision)) {
      const parts = splitMachineUnitKey(SCHEDULE_PREFIX, key);
      if (parts?.unit === name) machines.push(parts.machineID);
    }
    const values = await getKeysAt(
      ns,
      machines.flatMap((m) => [scheduleKey(m, name), unitStateKey(m, name)]),
      revision,
    );
    const placements = decodeEach(machines, (m) => scheduleKey(m, name), values, decodeSchedule);
    const reports = decodeEach(machines, (m) => unitStateKey(m, name), values, decodeState);
    const [options, unplaced] = await Promise.all([optionsOf([job.hash]), getUnplaced(ns, name)]);
    return toUnit(
      job,
      options.get(job.hash),
      [...placements].map(([machineID, record]) => ({ machineID, record })),
      (m) => reports.get(m),
      unplaced?.reason,
    );
  };

  const getUnitOptions = async (hash: string): Promise<UnitOption[] | null> => {
    const text = await contents.get(hash);
    return text === undefined ? null : parseUnitFile(text);
  };

  const listMachines = async (): Promise<MachineState[]> => {
    const { kvs } = await rangePrefix(ns, MACHINES_PREFIX);
    return machinesFromKvs(kvs);
  };

  const listSchedule = async (): Promise<Placement[]> => {
    const { kvs } = await rangePrefix(ns, SCHEDULE_PREFIX);
    const out: Placement[] = [];
    for (const kv of kvs) {
      const parts = splitMachineUnitKey(SCHEDULE_PREFIX, kv.key.toString());
      if (parts) out.push({ unit: parts.unit, machineID: parts.machineID });
    }
    return out.sort((a, b) => compareStrings(a.unit, b.unit) || compareStrings(a.machineID, b.machineID));
  };

  const listUnitStates = async (filter: UnitStateFilter = {}): Promise<UnitStateReport[]> => {
    const { machineID, unit } = filter;
    // A '/' would address other keys; no report's machine or unit has one.
    if (machineID?.includes('/') || unit?.includes('/') || machineID === '' || unit === '') return [];
    let kvs: { key: string; value: string }[];
    if (machineID !== undefined && unit !== undefined) {
      const key = unitStateKey(machineID, unit);
      const kv = await getKv(ns, key);
      kvs = kv ? [{ key, value: kv.value.toString() }] : [];
    } else if (machineID !== undefined) {
      kvs = (await rangePrefix(ns, machineStatePrefix(machineID))).kvs.map(textKv);
    } else if (unit !== undefined) {
      // Keys and values at one revision: that of the keys' first page.
      const { header } = await ns.get(STATE_PREFIX).exec();
      const keys = (await prefixKeys(ns, STATE_PREFIX, header.revision)).filter(
        (k) => splitMachineUnitKey(STATE_PREFIX, k)?.unit === unit,
      );
      kvs = [...(await getKeysAt(ns, keys, header.revision))].map(([key, value]) => ({ key, value }));
    } else {
      kvs = (await rangePrefix(ns, STATE_PREFIX)).kvs.map(textKv);
    }
    const out: UnitStateReport[] = [];
    for (const { key, value } of kvs) {
      const parts = splitMachineUnitKey(STATE_PREFIX, key);
      if (!parts) continue;
      let record: StateRecord;
      try {
        record = decodeState(key, value);
      } catch {
        continue; // skipped: see decodeAll
      }
      out.push({
        unit: parts.unit,
        machineID: parts.machineID,
        hash: record.hash,
        systemd: { load: record.load, active: record.active, sub: record.sub },
        agentState: record.agentState,
        ...(record.restart ? { restart: record.restart } : {}),
        ...(record.health ? { health: record.health } : {}),
      });
    }
    return out.sort((a, b) => compareStrings(a.unit, b.unit) || compareStrings(a.machineID, b.machineID));
  };

  const createUnit = async (spec: UnitSpec, opts: CreateUnitOptions = {}): Promise<boolean> => {
    assertSubmittable(spec.name, spec.options);
    const text = serializeUnit(spec.options);
    const hash = unitHash(spec.options);
    if (hash !== spec.hash) {
      throw new Error(`unit ${spec.name}: hash ${spec.hash} does not match its contents (${hash})`);
    }
    const job: JobRecord = {
      name: spec.name,
      hash,
      desiredState: spec.desiredState,
      ...(spec.origin !== undefined ? { origin: spec.origin } : {}),
    };
    // Contents are content-addressed: rewriting an existing unit/<hash> stores identical bytes, so the
    // contents are always written with the job (never trusting a cache that the key still exists).
    const writes = () => [
      ns.put(unitContentKey(hash)).value(text),
      ns.put(jobKey(spec.name)).value(encodeJob(job)),
    ];
    if (opts.replace && opts.expectHash !== undefined) {
      // The hash sits inside the JSON job record, which etcd cannot compare: read the record, check its
      // hash, and write only if the record is still that revision. A changed revision with the same
      // hash (e.g. a desired-state change) is retried; a changed hash means another writer won.
      for (let attempt = 0; ; attempt++) {
        const kv = await getKv(ns, jobKey(spec.name));
        if (!kv || decodeJob(jobKey(spec.name), kv.value.toString()).hash !== opts.expectHash) return false;
        const res = await ns
          .if(jobKey(spec.name), 'Mod', '==', kv.mod_revision)
          .then(...writes())
          .commit();
        if (res.succeeded) break;
        if (attempt + 1 >= CAS_ATTEMPTS) {
          throw new Error(`unit ${spec.name}: not replaced, the unit kept changing concurrently`);
        }
      }
    } else if (opts.replace) {
      // Compare that always holds: the transaction is only there to make both puts atomic.
      await ns
        .if(jobKey(spec.name), 'Version', '>', -1)
        .then(...writes())
        .commit();
    } else {
      const res = await ns
        .if(jobKey(spec.name), 'Create', '==', 0)
        .then(...writes())
        .commit();
      if (!res.succeeded) return false;
    }
    contents.remember(hash, text);
    return true;
  };

  const setDesiredState = async (name: string, state: DesiredState): Promise<void> => {
    assertUnitName(name);
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const kv = await getKv(ns, jobKey(name));
      if (!kv) throw new UnitNotFoundError(name);
      const job = decodeJob(jobKey(name), kv.value.toString());
      if (job.desiredState === state) return;
      const res = await ns
        .if(jobKey(name), 'Mod', '==', kv.mod_revision)
        .then(ns.put(jobKey(name)).value(encodeJob({ ...job, desiredState: state })))
        .commit();
      if (res.succeeded) return;
    }
    throw new Error(`unit ${name}: desired state not set, the unit kept changing concurrently`);
  };

  const destroyUnit = async (name: string): Promise<boolean> => {
    assertUnitName(name);
    // The job and its cluster cron run records, in one transaction (a re-created unit of the same name
    // starts with no history, so no tick of the old one is caught up as missed or run late). Schedule
    // keys stay: the engine leader unschedules it (schedule keys are written by the leader alone).
    const res = await ns
      .if(jobKey(name), 'Create', '>', 0)
      .then(ns.delete().key(jobKey(name)), ns.delete().prefix(unitRunsPrefix(name)))
      .commit();
    return res.succeeded;
  };

  const setMachineMetadata = async (machineID: string, key: string, value: string): Promise<void> => {
    assertMachineID(machineID);
    if (key === '' || key.includes('/')) throw new Error(`invalid metadata key ${JSON.stringify(key)}`);
    await ns.put(machineMetadataKey(machineID, key)).value(value);
  };

  const single = { createUnit, setDesiredState, destroyUnit };
  return {
    ns,
    createUnits: (specs: readonly UnitSpec[]) =>
      createUnitsBatch(ns, specs, single, (h, t) => contents.remember(h, t)),
    setDesiredStates: (names: readonly string[], state: DesiredState) =>
      setDesiredStatesBatch(ns, names, state, single),
    destroyUnits: (names: readonly string[]) => destroyUnitsBatch(ns, names, single),
    listUnits,
    getUnit,
    getUnitOptions,
    listMachines,
    listSchedule,
    listUnitStates,
    createUnit,
    setDesiredState,
    destroyUnit,
    setMachineMetadata,
    listRuns: (unit: string, limit?: number) => listRuns(ns, unit, limit),
    restartUnit: (name: string) => bumpRestartGeneration(ns, name),
    setMachineDrained: (machineID: string, drained: boolean) => setMachineDrained(ns, machineID, drained),
    machineHealth: () => readMachineHealth(ns),
    watchChanges: shareChangeWatch((onChange) => watchChanges(ns, onChange)),
    readMachineJournal: (machineID: string, unit: string, lines: number) =>
      requestJournal(ns, machineID, unit, lines),
    close: async () => close(),
  };
}
