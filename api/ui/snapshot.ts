// The console's view of the cluster, read through the same registry the API routes use: machines with
// their health (leader, unit count, heartbeat), units with placement reasons, state reports, and for
// cluster cron units the next tick and the last runs.

import type { UnitWithTarget } from '../../registry/types.js';
import { compileCron } from '../../units/cron-expression.js';
import type { UnitStateReport } from '../../units/types.js';
import { parseRequirements } from '../../units/xfleet.js';
import { apiRun } from '../entities.js';
import type { ApiRegistry } from '../route.js';
import type { ConsoleMachine, ConsoleSnapshot, ConsoleUnit, ConsoleUnitState } from './schema.js';

/** Runs shown per scheduled unit. */
export const LAST_RUNS = 3;

function consoleState(s: UnitStateReport): ConsoleUnitState {
  return {
    machineID: s.machineID,
    hash: s.hash,
    load: s.systemd.load,
    active: s.systemd.active,
    sub: s.systemd.sub,
    ...(s.health ? { health: s.health.status } : {}),
  };
}

/** The next tick of an armed (launched) scheduled unit, computed as the engine does; undefined otherwise. */
function nextTickOf(u: UnitWithTarget, expression: string, timezone: string | undefined, now: number) {
  if (u.desiredState !== 'launched') return undefined;
  try {
    const next = compileCron(expression, timezone).next(now);
    return next === null ? undefined : new Date(next).toISOString();
  } catch {
    return undefined;
  }
}

export async function consoleUnit(
  registry: ApiRegistry,
  u: UnitWithTarget,
  states: readonly UnitStateReport[],
  now: number,
): Promise<ConsoleUnit> {
  const schedule = parseRequirements(u.options).schedule;
  const next = schedule ? nextTickOf(u, schedule.expression, schedule.timezone, now) : undefined;
  const runs = schedule && registry.listRuns ? await registry.listRuns(u.name, LAST_RUNS) : undefined;
  return {
    name: u.name,
    hash: u.hash,
    desiredState: u.desiredState,
    ...(u.global ? {} : { currentState: u.currentState ?? 'inactive' }),
    ...(u.machineID && !u.global ? { machineID: u.machineID } : {}),
    global: u.global,
    ...(u.reason ? { reason: u.reason } : {}),
    ...(schedule ? { schedule: schedule.expression } : {}),
    ...(next ? { nextTick: next } : {}),
    ...(runs ? { lastRuns: runs.map(apiRun) } : {}),
    states: states.filter((s) => s.unit === u.name).map(consoleState),
  };
}

export async function readSnapshot(registry: ApiRegistry, now = Date.now()): Promise<ConsoleSnapshot> {
  const [units, machines, states, health] = await Promise.all([
    registry.listUnits(),
    registry.listMachines(),
    registry.listUnitStates(),
    registry.machineHealth ? registry.machineHealth() : undefined,
  ]);
  const consoleMachines: ConsoleMachine[] = machines.map((m) => {
    const age = health?.heartbeatAge.get(m.id);
    return {
      id: m.id,
      primaryIP: m.publicIP,
      metadata: m.metadata,
      version: m.version,
      leader: health?.leader === m.id,
      drained: m.drained === true,
      units: health?.units.get(m.id) ?? 0,
      ...(age !== undefined ? { heartbeatAge: age } : {}),
    };
  });
  return {
    at: new Date(now).toISOString(),
    machines: consoleMachines,
    units: await Promise.all(units.map((u) => consoleUnit(registry, u, states, now))),
  };
}
