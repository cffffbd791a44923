// plan UNIT-FILE... (fleet-ts extension): where the units would run if started now (`fleetctl start
// --replace` of these files), what else would move, and what could not be placed and why, computed by the
// engine's own planner (engine/preview.ts) on a snapshot of the cluster. Writes nothing. Exit 0 when every
// unit places and nothing loses its place, 2 when something does not, 1 on errors.

import { dirname, join, resolve } from 'node:path';
import { type Proposal, previewPlacements } from '../../../engine/preview.js';
import type { UnitWithTarget } from '../../../registry/types.js';
import { errorLine, errorMessage } from '../../../units/common.js';
import type { MachineState, UnitOption } from '../../../units/types.js';
import type { CommandContext } from '../context.js';
import { assertSafeUnitName } from '../create.js';
import { CliError } from '../io.js';
import { engineUnit, stateFromListing } from '../plan-snapshot.js';
import { renderPreviewJson, renderPreviewTable } from '../preview-render.js';

export interface PlanOptions {
  readonly full?: boolean;
  /** commander's `--no-legend` sets this to false. */
  readonly legend?: boolean;
  readonly output?: string;
}

/** `table` or `json`, or a one-line error: the same check as every listing command. */
export function outputFormat(output: string | undefined): 'table' | 'json' {
  const o = (output ?? 'table').toLowerCase();
  if (o === 'table' || o === 'json') return o;
  throw new CliError(`Error: invalid --output "${output}": expected table or json`);
}

function readOptions(ctx: CommandContext, path: string): UnitOption[] | null {
  let text: string | null;
  try {
    text = ctx.io.readLocalFile(resolve(ctx.io.cwd, path));
  } catch (err) {
    throw new CliError(`Error: cannot read ${path}: ${errorMessage(err)}`);
  }
  if (text === null) return null;
  try {
    return ctx.model.parse(text, path);
  } catch (err) {
    throw new CliError(`Error: ${errorMessage(err)}`);
  }
}

/** The unit's contents as `start` would use them: its file, else its template's (local, then registry). */
function contentsOf(
  ctx: CommandContext,
  arg: string,
  name: string,
  registry: ReadonlyMap<string, UnitWithTarget>,
): UnitOption[] {
  const path = ctx.model.withDefaultType(arg);
  const own = readOptions(ctx, path);
  if (own) return own;
  const template = ctx.model.templateOf(name);
  if (template) {
    const local = readOptions(ctx, join(dirname(path), template));
    if (local) return local;
    const stored = registry.get(template);
    if (stored) return [...stored.options];
  }
  throw new CliError(
    `Error: unable to find Unit(${name}) on filesystem${template ? ' or its template' : ''}`,
  );
}

/** Renders a preview for the given format; returns the exit code (0 all placed, 2 otherwise). */
export function printPreview(
  ctx: CommandContext,
  preview: ReturnType<typeof previewPlacements>,
  machines: readonly MachineState[],
  o: PlanOptions,
): number {
  if (outputFormat(o.output) === 'json') ctx.io.stdout(renderPreviewJson(preview, machines));
  else
    ctx.io.stdout(renderPreviewTable(preview, machines, { full: o.full ?? false, legend: o.legend ?? true }));
  return preview.ok ? 0 : 2;
}

export async function runPlan(ctx: CommandContext, args: readonly string[], o: PlanOptions): Promise<number> {
  if (args.length === 0) throw new CliError('One or more unit files must be provided');
  outputFormat(o.output);
  const names = args.map((a) => ctx.model.mangle(a));
  for (const n of names) {
    assertSafeUnitName(ctx, n);
    if (ctx.model.isTemplate(n))
      throw new CliError(`Error: ${n} is a template: plan its instances (${n.replace('@.', '@1.')})`);
  }
  const client = await ctx.client();
  let units: UnitWithTarget[];
  let machines: MachineState[];
  try {
    [units, machines] = await Promise.all([client.listUnits(), client.listMachines()]);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`Error retrieving the cluster state: ${errorLine(err)}`);
  }
  const registry = new Map(units.map((u) => [u.name, u]));
  const proposal: Proposal = {
    units: args.map((arg, i) => {
      const name = names[i] as string;
      const options = contentsOf(ctx, arg, name, registry);
      const invalid = ctx.model.validateOptions(options);
      if (invalid) throw new CliError(`Error: ${name}: ${invalid}`);
      return engineUnit({ name, hash: ctx.model.hash(options), desiredState: 'launched', options });
    }),
  };
  return printPreview(ctx, previewPlacements(stateFromListing(units, machines), proposal), machines, o);
}
