// Looking units up by name inside a loop over the command's units. A getUnit scans the schedule's keys
// to find the unit's placements, so a command over many units (`fleetctl start` of N units) would be
// O(N²): for more than a couple of names the whole listing is read once and answered from. A name the
// loop has written since (created, replaced) is read again, so the loop never acts on a stale copy.
import type { UnitWithTarget } from '../../registry/types.js';
import type { FleetClient } from './client.js';

export interface UnitLookup {
  get(name: string): Promise<UnitWithTarget | null>;
  /** `name` was written since the listing was read: later lookups of it read it again. */
  changed(name: string): void;
}

/** Beyond this many names one listing is cheaper than a getUnit per name. */
const GET_PER_NAME_UP_TO = 2;

export function unitLookup(client: Pick<FleetClient, 'getUnit' | 'listUnits'>, count: number): UnitLookup {
  let listing: Promise<Map<string, UnitWithTarget>> | undefined;
  const written = new Set<string>();
  return {
    get: async (name) => {
      if (count <= GET_PER_NAME_UP_TO || written.has(name)) return client.getUnit(name);
      listing ??= client.listUnits().then((units) => new Map(units.map((u) => [u.name, u])));
      return (await listing).get(name) ?? null;
    },
    changed: (name) => {
      written.add(name);
    },
  };
}
