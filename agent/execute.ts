// Executes the planner's tasks against systemd and the units directory. This is the only place the
// agent changes anything on the host. A failed task skips the remaining tasks of the same unit (the
// next reconcile retries); other units go on, so one broken unit cannot block a whole machine.

import { errorMessage as message } from '../units/common.js';
import type { Logger } from '../units/log.js';
import { type AgentTask, describeTask, hasInstallSection } from './plan.js';
import type { SystemdDriver } from './systemd/driver.js';
import type { UnitFileStore } from './unit-files.js';

export type LocalUnitState = 'loaded' | 'launched';

/** What the agent has done with each unit in this run (fleet keeps this in memory only). */
export interface LoadedUnit {
  readonly hash: string;
  readonly state: LocalUnitState;
}

export interface ExecuteDeps {
  readonly driver: SystemdDriver;
  readonly files: UnitFileStore;
  /** Unit text for a hash; null when the registry does not have it. */
  readonly unitText: (hash: string) => Promise<string | null>;
  readonly log: Logger;
  readonly machineID: string;
}

export interface TaskFailure {
  readonly task: AgentTask;
  readonly error: string;
}

/**
 * Runs `one` for every name, through `batch` (one systemd call for all) when the driver has it. A
 * failed batch is retried one name at a time, so the failures name exactly the units that failed
 * and the others still get their call. Returns unit -> error message of the failed ones.
 */
async function forEachUnit(
  deps: ExecuteDeps,
  what: string,
  names: readonly string[],
  batch: ((names: readonly string[]) => Promise<void>) | undefined,
  one: (name: string) => Promise<void>,
): Promise<Map<string, string>> {
  const failed = new Map<string, string>();
  if (batch && names.length > 1) {
    try {
      await batch(names);
      return failed;
    } catch (err) {
      deps.log.debug(
        { machine: deps.machineID, units: names.length, err: message(err) },
        `${what} of ${names.length} units in one call failed; retrying one by one`,
      );
    }
  }
  for (const name of names) {
    try {
      await one(name);
    } catch (err) {
      failed.set(name, message(err));
    }
  }
  return failed;
}

/** Starts the units (`--no-block`: their state is read afterwards). */
export function startUnits(deps: ExecuteDeps, units: readonly string[]): Promise<Map<string, string>> {
  const d = deps.driver;
  return forEachUnit(deps, 'start', units, d.startUnits?.bind(d), (u) => d.startUnit(u));
}

/** Stops the units; returns when they are down. */
export function stopUnits(deps: ExecuteDeps, units: readonly string[]): Promise<Map<string, string>> {
  const d = deps.driver;
  return forEachUnit(deps, 'stop', units, d.stopUnits?.bind(d), (u) => d.stopUnit(u));
}

/**
 * Stops units and, for each one whose stop worked, removes everything fleet put on the host for it
 * (fleet#1216: a unit that would not stop keeps its file). Returns unit -> error of those not unloaded.
 */
export async function unloadUnits(deps: ExecuteDeps, units: readonly string[]): Promise<Map<string, string>> {
  const failed = await stopUnits(deps, units);
  const stopped = units.filter((u) => !failed.has(u));
  const d = deps.driver;
  // Best effort: a unit that was never enabled makes `disable` complain, which must not keep the file.
  // One call per kind for all of them (per-unit calls made destroying 100 units take minutes).
  const bestEffort = (what: string, errors: Map<string, string>) => {
    for (const [unit, err] of errors) deps.log.debug({ unit, err }, `${what} failed`);
  };
  // Only units whose file has an [Install] section can have been enabled: `disable` of 100 units that
  // were not took systemd 0.3 s. A unit whose file is unreadable is disabled anyway.
  const enabled: string[] = [];
  for (const u of stopped) {
    const text = await deps.files.read(u).catch(() => null);
    if (text === null || hasInstallSection(text)) enabled.push(u);
  }
  bestEffort(
    'disable',
    await forEachUnit(deps, 'disable', enabled, d.disableUnits?.bind(d), (u) => d.disableUnit(u)),
  );
  bestEffort(
    'reset-failed',
    await forEachUnit(deps, 'reset-failed', stopped, d.resetFailedUnits?.bind(d), (u) => d.resetFailed(u)),
  );
  for (const unit of stopped) {
    try {
      await deps.files.remove(unit);
    } catch (err) {
      failed.set(unit, message(err));
    }
  }
  return failed;
}

async function loadUnit(deps: ExecuteDeps, unit: string, hash: string, enable: boolean): Promise<void> {
  const text = await deps.unitText(hash);
  if (text === null) throw new Error(`contents of ${unit} (hash ${hash}) are missing from the registry`);
  await deps.files.write(unit, text);
  await deps.files.link(unit);
  if (enable) {
    try {
      await deps.driver.enableUnit(unit);
    } catch (err) {
      await deps.files.remove(unit);
      throw new Error(`Failed to enable systemd unit ${unit}: ${message(err)}`);
    }
  }
}

/**
 * Whether this batch's unit file changes need a daemon-reload. Not when the driver says systemd reads
 * the new files on first start and holds none of the changed units (a batch of brand-new units): on a
 * host with a few hundred units the reload alone took 0.3-0.5 s. Without reloadNeededFor: always.
 */
async function reloadNeeded(deps: ExecuteDeps, tasks: readonly AgentTask[]): Promise<boolean> {
  const changed = new Set(tasks.flatMap((t) => (t.kind === 'load' || t.kind === 'unload' ? [t.unit] : [])));
  if (!deps.driver.reloadNeededFor || changed.size === 0) return true;
  return deps.driver.reloadNeededFor([...changed]).catch(() => true);
}

/**
 * Unit files written and linked at once. One load is ~9 file system calls, one after the other,
 * through libuv's thread pool (4 threads): 100 new units took 0.13-0.28 s one by one on a real machine.
 */
const LOADS_IN_FLIGHT = 8;

type LoadTask = Extract<AgentTask, { kind: 'load' }>;

/** The run of load tasks starting at `from` that may go in parallel: distinct units, none enabled. */
function parallelLoads(tasks: readonly AgentTask[], from: number): LoadTask[] {
  const run: LoadTask[] = [];
  const units = new Set<string>();
  for (let i = from; i < tasks.length; i++) {
    const t = tasks[i];
    // `systemctl enable` calls stay one at a time, as before.
    if (t?.kind !== 'load' || t.enable || units.has(t.unit)) break;
    units.add(t.unit);
    run.push(t);
  }
  return run;
}

async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

type BatchedTask = Extract<AgentTask, { kind: 'unload' | 'stop' | 'start' }>;
const isBatched = (t: AgentTask | undefined): t is BatchedTask =>
  t?.kind === 'unload' || t?.kind === 'stop' || t?.kind === 'start';

/**
 * Runs the tasks in order, updating `loaded` (the agent's memory) as each one succeeds. Returns the
 * failures; a daemon-reload failure stops the whole batch (nothing after it can be trusted).
 *
 * Consecutive unload/stop/start tasks (the planner sorts tasks by kind, so each kind is one run) go
 * to systemd as one call per kind; their order relative to the other kinds is unchanged.
 */
export async function executeTasks(
  deps: ExecuteDeps,
  tasks: readonly AgentTask[],
  loaded: Map<string, LoadedUnit>,
): Promise<TaskFailure[]> {
  const failures: TaskFailure[] = [];
  const failedUnits = new Set<string>();
  let reloadSkipped = false;
  const ctx = (task: AgentTask) => ({
    machine: deps.machineID,
    task: describeTask(task),
    reason: task.reason,
  });
  const succeeded = (task: AgentTask) =>
    deps.log.info(ctx(task), `${describeTask(task)} on machine ${deps.machineID}: done`);
  const failed = (task: AgentTask, error: string) => {
    failures.push({ task, error });
    deps.log.error({ ...ctx(task), err: error }, `${describeTask(task)} on machine ${deps.machineID} failed`);
    if (task.kind !== 'daemon-reload') failedUnits.add(task.unit);
  };

  for (let i = 0; i < tasks.length; ) {
    const first = tasks[i];
    if (!first) break;
    if (isBatched(first)) {
      const group: BatchedTask[] = [];
      for (; i < tasks.length; i++) {
        const t = tasks[i];
        if (!isBatched(t) || t.kind !== first.kind) break;
        if (!failedUnits.has(t.unit)) group.push(t);
      }
      const units = group.map((t) => t.unit);
      let errors =
        first.kind === 'unload'
          ? await unloadUnits(deps, units)
          : first.kind === 'stop'
            ? await stopUnits(deps, units)
            : await startUnits(deps, units);
      if (first.kind === 'start' && errors.size > 0 && reloadSkipped) {
        // The skipped reload is the first suspect (e.g. a unit directory with 1 s mtimes): reload, retry.
        reloadSkipped = false;
        deps.log.info(
          { machine: deps.machineID, units: errors.size },
          `starting ${errors.size} new units without a daemon-reload failed; reloading and retrying`,
        );
        const retried = await deps.driver.daemonReload().then(
          () => startUnits(deps, [...errors.keys()]),
          () => errors,
        );
        errors = retried;
      }
      for (const t of group) {
        const error = errors.get(t.unit);
        if (error !== undefined) {
          failed(t, error);
          continue;
        }
        const cur = loaded.get(t.unit);
        if (t.kind === 'unload') loaded.delete(t.unit);
        else if (cur) loaded.set(t.unit, { ...cur, state: t.kind === 'start' ? 'launched' : 'loaded' });
        succeeded(t);
      }
      continue;
    }
    const loads = parallelLoads(tasks, i);
    if (loads.length > 1) {
      i += loads.length;
      await inParallel(loads, LOADS_IN_FLIGHT, async (t) => {
        if (failedUnits.has(t.unit)) return;
        try {
          await loadUnit(deps, t.unit, t.hash, false);
          loaded.set(t.unit, { hash: t.hash, state: 'loaded' });
          succeeded(t);
        } catch (err) {
          failed(t, message(err));
        }
      });
      continue;
    }
    i++;
    const task = first;
    if (task.kind !== 'daemon-reload' && failedUnits.has(task.unit)) continue;
    try {
      switch (task.kind) {
        case 'load':
          await loadUnit(deps, task.unit, task.hash, task.enable);
          loaded.set(task.unit, { hash: task.hash, state: 'loaded' });
          break;
        case 'daemon-reload':
          if (!(await reloadNeeded(deps, tasks))) {
            reloadSkipped = true;
            deps.log.debug(
              { machine: deps.machineID },
              'daemon-reload skipped: systemd holds none of the changed units (new ones are read at their start)',
            );
            continue;
          }
          await deps.driver.daemonReload();
          break;
        default:
          throw new Error(`unexpected task ${describeTask(task)}`);
      }
      succeeded(task);
    } catch (err) {
      failed(task, message(err));
      if (task.kind === 'daemon-reload') break;
    }
  }
  return failures;
}
