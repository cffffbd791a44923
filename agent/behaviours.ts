// Optional agent behaviours that hook into the reconcile loop (cluster cron runs today). A new
// behaviour is a module exporting an `AgentBehaviourFactory`, added to AGENT_BEHAVIOURS with one line.

import type { RunReporter } from '../registry/runs.js';
import type { Logger } from '../units/log.js';
import type { ScheduleRecord } from '../units/types.js';
import type { LoadedUnit, TaskFailure } from './execute.js';
import type { AgentTask } from './plan.js';
import { RunTracker } from './runs.js';
import type { SystemdDriver } from './systemd/driver.js';

export type Schedule = ReadonlyMap<string, ScheduleRecord>;

/** What a behaviour gets when the agent starts. */
export interface AgentBehaviourContext {
  readonly machineID: string;
  readonly driver: SystemdDriver;
  readonly log: Logger;
  readonly runs?: RunReporter;
}

/** Hooks, each optional; all run inside the agent's serial queue. */
export interface AgentBehaviour {
  /** Changes the planner's tasks before they run. */
  adjustTasks?(
    schedule: Schedule,
    loaded: ReadonlyMap<string, LoadedUnit>,
    tasks: AgentTask[],
  ): Promise<AgentTask[]>;
  /** After the tasks ran (failures name the tasks that failed). */
  afterExecute?(schedule: Schedule, tasks: readonly AgentTask[], failures: readonly TaskFailure[]): void;
  /** On every state poll (about once a second). */
  poll?(schedule: Schedule): Promise<void>;
}

/** A behaviour for this agent, or undefined when it does not apply (e.g. no run reporter). */
export type AgentBehaviourFactory = (ctx: AgentBehaviourContext) => AgentBehaviour | undefined;

/** Cluster cron: starts each run once and reports it (./runs.ts). */
const cronRuns: AgentBehaviourFactory = ({ machineID, driver, log, runs }) => {
  if (!runs) return undefined;
  const tracker = new RunTracker({ machineID, driver, reporter: runs, log });
  return {
    adjustTasks: (schedule, loaded, tasks) => tracker.adjustTasks(schedule, loaded, tasks),
    afterExecute: (schedule, tasks, failures) => tracker.afterExecute(schedule, tasks, failures),
    poll: (schedule) => tracker.poll(schedule),
  };
};

export const AGENT_BEHAVIOURS: readonly AgentBehaviourFactory[] = [cronRuns];
