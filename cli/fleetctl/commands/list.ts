// list-units, list-unit-files, list-machines: fleet's tables (TAB-aligned, upper-cased headers, `-` for
// empty cells) or, beyond fleet, `--output json`.

import { compareStrings, errorLine } from '../../../units/common.js';
import {
  type ColumnTable,
  listMachinesColumns,
  listUnitFilesColumns,
  listUnitsColumns,
  renderJson,
  renderTable,
  selectFields,
} from '../columns.js';
import type { CommandContext } from '../context.js';
import { CliError } from '../io.js';
import { machineLookup } from '../legend.js';

export interface ListOptions {
  readonly fields: string;
  readonly full?: boolean;
  /** commander's `--no-legend` sets this to false. */
  readonly legend?: boolean;
  readonly output?: string;
}

function outputMode(opts: ListOptions): 'table' | 'json' {
  const o = (opts.output ?? 'table').toLowerCase();
  if (o === 'table' || o === 'json') return o;
  throw new CliError(`Error: invalid --output "${opts.output}": expected table or json`);
}

function render<T>(
  ctx: CommandContext,
  table: ColumnTable<T>,
  fields: string[],
  rows: T[],
  opts: ListOptions,
): number {
  if (outputMode(opts) === 'json') ctx.io.stdout(renderJson(table, fields, rows));
  else
    ctx.io.stdout(
      renderTable(table, fields, rows, { full: opts.full ?? false, legend: opts.legend ?? true }),
    );
  return 0;
}

async function fetchOr<T>(what: () => Promise<T>, prefix: string): Promise<T> {
  try {
    return await what();
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${prefix}: ${errorLine(err)}`);
  }
}

export async function runListUnits(ctx: CommandContext, opts: ListOptions): Promise<number> {
  const probe = listUnitsColumns(() => ({ id: '' }));
  const fields = selectFields(probe, opts.fields);
  outputMode(opts);
  const client = await ctx.client();
  const prefix = 'Error retrieving list of units from repository';
  const [states, machines] = await Promise.all([
    fetchOr(() => client.listUnitStates(), prefix),
    fetchOr(() => client.listMachines(), prefix),
  ]);
  const rows = [...states].sort(
    (a, b) => compareStrings(a.unit, b.unit) || compareStrings(a.machineID, b.machineID),
  );
  return render(ctx, listUnitsColumns(machineLookup(machines)), fields, rows, opts);
}

export async function runListUnitFiles(ctx: CommandContext, opts: ListOptions): Promise<number> {
  const probe = listUnitFilesColumns(() => ({ id: '' }));
  const fields = selectFields(probe, opts.fields);
  outputMode(opts);
  if (fields.includes('tmachine'))
    ctx.print.err('WARNING: The "tmachine" field is deprecated. Use "target" instead');
  const client = await ctx.client();
  const prefix = 'Error retrieving list of units from repository';
  const [units, machines] = await Promise.all([
    fetchOr(() => client.listUnits(), prefix),
    fetchOr(() => client.listMachines(), prefix),
  ]);
  const rows = [...units].sort((a, b) => compareStrings(a.name, b.name));
  return render(ctx, listUnitFilesColumns(machineLookup(machines)), fields, rows, opts);
}

export async function runListMachines(ctx: CommandContext, opts: ListOptions): Promise<number> {
  const fields = selectFields(listMachinesColumns(), opts.fields);
  outputMode(opts);
  const client = await ctx.client();
  const wantsHealth = fields.some((f) => f === 'leader' || f === 'units' || f === 'heartbeat');
  let machines: Awaited<ReturnType<typeof client.listMachines>>;
  try {
    machines = await client.listMachines();
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(
      `Error retrieving list of active machines: ${errorLine(err)} (possible issues: etcd is unhealthy and/or lost quorum, or no etcd server can be reached)`,
    );
  }
  const rows = [...machines].sort((a, b) => compareStrings(a.id, b.id));
  const health = wantsHealth && client.machineHealth ? await client.machineHealth() : undefined;
  return render(ctx, listMachinesColumns(health), fields, rows, opts);
}
