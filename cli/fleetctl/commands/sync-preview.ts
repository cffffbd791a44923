// `fleetctl sync --dry-run`: after the actions, the placements they would lead to, computed as
// `fleetctl plan` does (engine/preview.ts on a snapshot of the cluster), so an operator sees where the
// directory's units would run, what they would move, and what could not be placed and why.

import { type Proposal, previewPlacements } from '../../../engine/preview.js';
import type { EngineUnit } from '../../../engine/store.js';
import type { WatchAction } from '../../watch/plan.js';
import type { CommandContext } from '../context.js';
import { engineUnit, stateFromListing } from '../plan-snapshot.js';
import { printPreview } from './plan.js';

/** Prints the placement table of `actions`; returns 0 when everything places, 2 otherwise. */
export async function printSyncPlacements(
  ctx: CommandContext,
  actions: readonly WatchAction[],
): Promise<number> {
  const client = await ctx.client();
  const [units, machines] = await Promise.all([client.listUnits(), client.listMachines()]);
  const stored = new Map(units.map((u) => [u.name, u]));
  const changed: EngineUnit[] = [];
  const destroy: string[] = [];
  for (const a of actions) {
    if (a.kind === 'submit' || a.kind === 'replace') changed.push(engineUnit(a.spec));
    else if (a.kind === 'destroy') destroy.push(a.unit);
    else {
      const u = stored.get(a.unit);
      if (u) changed.push(engineUnit({ ...u, desiredState: a.to }));
    }
  }
  const proposal: Proposal = { units: changed, destroy };
  ctx.print.out('');
  return printPreview(ctx, previewPlacements(stateFromListing(units, machines), proposal), machines, {});
}
