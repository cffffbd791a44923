// Executes the planner's tasks against systemd and the units directory. This is the only place the
// agent changes anything on the host. A failed task skips the remaining tasks of the same unit (the
// next reconcile retries); other units go on, so one broken unit cannot block a whole machine.
import type { Logger } from '../units/log.js';
import { type AgentTask, describeTask } from './plan.js';
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

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Stops a unit and, only if that worked, removes everything fleet put on the host for it (fleet#1216). */
export async function unloadUnit(deps: ExecuteDeps, unit: string): Promise<void> {
  await deps.driver.stopUnit(unit);
  // Best effort: a unit that was never enabled makes `disable` complain, which must not keep the file.
  await deps.driver
    .disableUnit(unit)
    .catch((err) => deps.log.debug({ unit, err: message(err) }, 'disable failed'));
  await deps.driver
    .resetFailed(unit)
    .catch((err) => deps.log.debug({ unit, err: message(err) }, 'reset-failed failed'));
  await deps.files.remove(unit);
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
 * Runs the tasks in order, updating `loaded` (the agent's memory) as each one succeeds. Returns the
 * failures; a daemon-reload failure stops the whole batch (nothing after it can be trusted).
 */
export async function executeTasks(
  deps: ExecuteDeps,
  tasks: readonly AgentTask[],
  loaded: Map<string, LoadedUnit>,
): Promise<TaskFailure[]> {
  const failures: TaskFailure[] = [];
  const failedUnits = new Set<string>();
  for (const task of tasks) {
    if (task.kind !== 'daemon-reload' && failedUnits.has(task.unit)) continue;
    const ctx = { machine: deps.machineID, task: describeTask(task), reason: task.reason };
    try {
      switch (task.kind) {
        case 'unload':
          await unloadUnit(deps, task.unit);
          loaded.delete(task.unit);
          break;
        case 'load':
          await loadUnit(deps, task.unit, task.hash, task.enable);
          loaded.set(task.unit, { hash: task.hash, state: 'loaded' });
          break;
        case 'daemon-reload':
          await deps.driver.daemonReload();
          break;
        case 'stop': {
          await deps.driver.stopUnit(task.unit);
          const cur = loaded.get(task.unit);
          if (cur) loaded.set(task.unit, { ...cur, state: 'loaded' });
          break;
        }
        case 'start': {
          await deps.driver.startUnit(task.unit);
          const cur = loaded.get(task.unit);
          if (cur) loaded.set(task.unit, { ...cur, state: 'launched' });
          break;
        }
        default: {
          const never: never = task;
          throw new Error(`unknown task ${JSON.stringify(never)}`);
        }
      }
      deps.log.info(ctx, `${describeTask(task)} on machine ${deps.machineID}: done`);
    } catch (err) {
      failures.push({ task, error: message(err) });
      deps.log.error(
        { ...ctx, err: message(err) },
        `${describeTask(task)} on machine ${deps.machineID} failed`,
      );
      if (task.kind === 'daemon-reload') break;
      failedUnits.add(task.unit);
    }
  }
  return failures;
}
