// The engine state `fleetctl plan` and `sync --dry-run` preview against, rebuilt from what every driver
// lists (units with their target machine, machines with metadata and drain marks), so that plan works the
// same over etcd and over fleet's HTTP API. Pure.
// Design notes: docs/architecture.md, "cli/fleetctl/plan-snapshot.ts".

import type { EngineState, EngineUnit } from '../../engine/store.js';
import type { UnitWithTarget } from '../../registry/types.js';
import type { MachineState, ScheduleRecord, UnitOption } from '../../units/types.js';
import { machineMatchesID, machineMatchesMetadata, parseRequirements } from '../../units/xfleet.js';

/** The engine's view of a unit as stored (name, hash, desired state, requirements). */
export function engineUnit(u: {
  readonly name: string;
  readonly hash: string;
  readonly desiredState: EngineUnit['desiredState'];
  readonly options: readonly UnitOption[];
}): EngineUnit {
  return {
    name: u.name,
    hash: u.hash,
    desiredState: u.desiredState,
    requirements: parseRequirements(u.options),
  };
}

export function stateFromListing(
  units: readonly UnitWithTarget[],
  machines: readonly MachineState[],
): EngineState {
  const engineUnits = new Map<string, EngineUnit>();
  const schedule = new Map<string, Map<string, ScheduleRecord>>();
  const put = (machineID: string, unit: string, record: ScheduleRecord): void => {
    const m = schedule.get(machineID) ?? new Map<string, ScheduleRecord>();
    m.set(unit, record);
    schedule.set(machineID, m);
  };
  for (const u of units) {
    const eu = engineUnit(u);
    engineUnits.set(u.name, eu);
    if (u.desiredState === 'inactive' || eu.requirements.schedule) continue;
    const desiredState = u.desiredState === 'launched' ? 'launched' : 'loaded';
    if (eu.requirements.global) {
      for (const m of machines) {
        if (machineMatchesID(eu.requirements, m.id) && machineMatchesMetadata(eu.requirements, m.metadata))
          put(m.id, u.name, { hash: u.hash, desiredState, global: true });
      }
    } else if (u.machineID) {
      put(u.machineID, u.name, { hash: u.hash, desiredState });
    }
  }
  return { units: engineUnits, machines: new Map(machines.map((m) => [m.id, m])), schedule };
}
