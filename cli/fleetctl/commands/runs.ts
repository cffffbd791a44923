// list-runs (fleet-ts extension, cluster cron): the last runs of a scheduled unit, newest first, as a
// fleet-style TAB table. Run records live in etcd (`runs/<unit>/<tick>`): with the etcd driver this
// command reads them directly (endpoint, TLS and key prefix); with the API driver it asks fleetd's API
// (fleet-ts extension `GET /fleet/v1/units/<name>/runs`, see cli/fleetd/api/README.md).
import type { RunRecord } from '../../../units/registry/runs.js';
import { listRuns } from '../../../units/registry/runs.js';
import type { CommandContext } from '../context.js';
import { chooseDriver, etcdConnectionOptions, etcdEndpoints, isUnreachable } from '../driver.js';
import { CliError } from '../io.js';
import { formatTable } from '../tabwriter.js';

export interface ListRunsOptions {
  readonly lines: number;
  /** commander's `--no-legend` sets this to false. */
  readonly legend?: boolean;
}

/** Reads the runs of one unit, newest first (injected in tests). */
export type RunSource = (unit: string, limit: number) => Promise<RunRecord[]>;

const dash = (s: string | undefined): string => (s ? s : '-');

function resultText(r: RunRecord): string {
  const base =
    r.status === 'failed' && r.exitStatus !== undefined ? `failed (exit ${r.exitStatus})` : r.status;
  const late = r.late ? ' (late)' : '';
  return r.reason && (r.status === 'skipped' || r.status === 'missed' || r.status === 'failed')
    ? `${base}${late}: ${r.reason}`
    : `${base}${late}`;
}

/** The table: TICK, MACHINE, START, END, RESULT. */
export function renderRuns(runs: readonly RunRecord[], legend: boolean): string {
  const lines: string[][] = [];
  if (legend) lines.push(['TICK', 'MACHINE', 'START', 'END', 'RESULT']);
  for (const r of runs) {
    lines.push([r.tick, dash(r.machineID), dash(r.startedAt), dash(r.endedAt), resultText(r)]);
  }
  return formatTable(lines);
}

export async function runListRuns(
  ctx: CommandContext,
  args: readonly string[],
  opts: ListRunsOptions,
  source?: RunSource,
): Promise<number> {
  if (args.length !== 1) throw new CliError('One unit file must be provided');
  const unit = ctx.model.mangle(args[0] as string);
  if (!Number.isInteger(opts.lines) || opts.lines < 1)
    throw new CliError('Error: --lines must be at least 1');
  const read = source ?? (await clientRunSource(ctx)) ?? (await etcdRunSource(ctx));
  let runs: RunRecord[];
  try {
    runs = await read(unit, opts.lines);
  } catch (err) {
    if (err instanceof CliError) throw err;
    const why = (err as Error).message.split('\n')[0];
    throw new CliError(
      isUnreachable(err) ? `Error: cannot reach etcd: ${why}` : `Error retrieving runs of ${unit}: ${why}`,
    );
  }
  if (runs.length === 0) {
    const u = await (await ctx.client()).getUnit(unit);
    if (!u) throw new CliError(`Unit ${unit} not found`);
  }
  ctx.io.stdout(renderRuns(runs, opts.legend ?? true));
  return 0;
}

/** With the API driver the runs come through the API (fleet-ts extension `GET /units/<name>/runs`). */
async function clientRunSource(ctx: CommandContext): Promise<RunSource | undefined> {
  if (chooseDriver(ctx.globals) !== 'api') return undefined;
  const client = await ctx.client();
  const listRuns = client.listRuns?.bind(client);
  return listRuns ? (unit, limit) => listRuns(unit, limit) : undefined;
}

async function etcdRunSource(ctx: CommandContext): Promise<RunSource> {
  if (chooseDriver(ctx.globals) !== 'etcd') {
    throw new CliError('Error: list-runs reads etcd directly: use --driver=etcd with an etcd --endpoint');
  }
  if (ctx.globals.tunnel) throw new CliError('Error: list-runs does not support --tunnel yet');
  const { createEtcdClient } = await import('../../../units/registry/client.js');
  const conn = etcdConnectionOptions(ctx.globals, etcdEndpoints(ctx.globals.endpoint));
  return async (unit, limit) => {
    const client = createEtcdClient(conn);
    try {
      return await listRuns(client.namespace(conn.keyPrefix), unit, limit);
    } finally {
      client.close();
    }
  };
}
