// fleetctl's lookup of the units named on the command line, for the commands that act on existing units.
import type { UnitWithTarget } from '../../registry/types.js';
import type { FleetClient } from './client.js';
import type { CommandContext } from './context.js';
import { assertSafeUnitName } from './create.js';
import { CliError } from './io.js';

export interface FoundUnits {
  /** The named units that exist, in argument order, without duplicates. */
  readonly units: UnitWithTarget[];
  /** Names given that are not in the registry (each already reported on stderr). */
  readonly missing: string[];
}

/**
 * fleet's findUnits: the named units that exist, in argument order. Unlike fleet, which skipped
 * unknown names silently, each one is reported (`Unit X not found`) so the command can exit 1 after
 * processing the others; when none exists at all the command fails with one line.
 */
export async function findUnits(
  ctx: CommandContext,
  client: FleetClient,
  args: readonly string[],
): Promise<FoundUnits> {
  const names = args.map((a) => ctx.model.mangle(a));
  for (const n of names) assertSafeUnitName(ctx, n);
  const all = new Map((await client.listUnits()).map((u) => [u.name, u]));
  const seen = new Set<string>();
  const units: UnitWithTarget[] = [];
  const missing: string[] = [];
  for (const n of names) {
    if (seen.has(n)) continue;
    seen.add(n);
    const u = all.get(n);
    if (u) units.push(u);
    else missing.push(n);
  }
  if (units.length === 0) throw new CliError('Units not found in registry');
  for (const n of missing) ctx.print.err(`Unit ${n} not found`);
  return { units, missing };
}

/** Exit code of a command that processed the units it found: 1 if some named units did not exist. */
export const exitFor = (found: FoundUnits): number => (found.missing.length > 0 ? 1 : 0);
