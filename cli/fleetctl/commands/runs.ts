// list-runs (fleet-ts extension, cluster cron): the last runs of a scheduled unit, newest first, as a
// fleet-style TAB table. Run records live in etcd (`runs/<unit>/<tick>`); the client reads them like
// everything else: the etcd driver from etcd (same connection, tunnel and unreachable-etcd message as
// the other commands), the API driver through fleetd (fleet-ts extension
// `GET /fleet/v1/units/<name>/runs`, see api/README.md).

import type { UnitWithTarget } from '../../../registry/types.js';
import { errorLine } from '../../../units/common.js';
import { compileCron } from '../../../units/cron-expression.js';
import type { RunRecord } from '../../../units/runs.js';
import { parseRequirements } from '../../../units/xfleet.js';
import type { CommandContext } from '../context.js';
import { CliError } from '../io.js';
import { formatTable } from '../tabwriter.js';

export interface ListRunsOptions {
  readonly lines: number;
  /** commander's `--no-legend` sets this to false. */
  readonly legend?: boolean;
  readonly output?: string;
}

/**
 * The next tick of an armed (launched) scheduled unit, as the engine computes it (same parser and time
 * zone); undefined for a paused or unscheduled unit. `now` in epoch ms.
 */
export function nextTick(unit: UnitWithTarget | null, now: number): string | undefined {
  if (unit?.desiredState !== 'launched') return undefined;
  const spec = parseRequirements(unit.options).schedule;
  if (!spec) return undefined;
  try {
    const next = compileCron(spec.expression, spec.timezone).next(now);
    return next === null ? undefined : new Date(next).toISOString();
  } catch {
    return undefined;
  }
}

const dash = (s: string | undefined): string => (s ? s : '-');

function resultText(r: RunRecord): string {
  const base =
    r.status === 'failed' && r.exitStatus !== undefined ? `failed (exit ${r.exitStatus})` : r.status;
  const late = r.late ? ' (late)' : '';
  return r.reason && (r.status === 'skipped' || r.status === 'missed' || r.status === 'failed')
    ? `${base}${late}: ${r.reason}`
    : `${base}${late}`;
}

/** The table: TICK, MACHINE, START, END, RESULT; the next tick (when armed) first, RESULT `next`. */
export function renderRuns(runs: readonly RunRecord[], legend: boolean, next?: string): string {
  const lines: string[][] = [];
  if (legend) lines.push(['TICK', 'MACHINE', 'START', 'END', 'RESULT']);
  if (next) lines.push([next, '-', '-', '-', 'next']);
  for (const r of runs) {
    lines.push([r.tick, dash(r.machineID), dash(r.startedAt), dash(r.endedAt), resultText(r)]);
  }
  return formatTable(lines);
}

export async function runListRuns(
  ctx: CommandContext,
  args: readonly string[],
  opts: ListRunsOptions,
): Promise<number> {
  if (args.length !== 1) throw new CliError('One unit file must be provided');
  const unit = ctx.model.mangle(args[0] as string);
  if (!Number.isInteger(opts.lines) || opts.lines < 1)
    throw new CliError('Error: --lines must be at least 1');
  const output = (opts.output ?? 'table').toLowerCase();
  if (output !== 'table' && output !== 'json')
    throw new CliError(`Error: invalid --output "${opts.output}": expected table or json`);
  const client = await ctx.client();
  if (!client.listRuns) throw new CliError('Error: this registry keeps no run history');
  let runs: RunRecord[];
  try {
    runs = await client.listRuns(unit, opts.lines);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`Error retrieving runs of ${unit}: ${errorLine(err)}`);
  }
  const spec = await client.getUnit(unit);
  if (runs.length === 0 && !spec) throw new CliError(`Unit ${unit} not found`);
  const next = nextTick(spec, Date.now());
  if (output === 'json') ctx.io.stdout(`${JSON.stringify({ unit, next: next ?? null, runs }, null, 2)}\n`);
  else ctx.io.stdout(renderRuns(runs, opts.legend ?? true, next));
  return 0;
}
