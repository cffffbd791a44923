// rolling-update TEMPLATE-FILE (fleet-ts): replaces the launched instances of a template with the
// file's contents, --max-parallel at a time, each counted only once it has been active (and, with a
// HealthCheck=, healthy) for --min-healthy-time; on a failure the update stops, the unproven instances
// go back to their previous contents and the command exits 1 with the reason. Why a command of its own
// and not `start --replace`: docs/rolling-update.md.
import { basename, resolve } from 'node:path';
import { errorMessage } from '../../../units/common.js';
import { healthCheckOf } from '../../../units/health-check.js';
import { parseTimeSpanMs } from '../../../units/stop-timeout.js';
import { DEFAULT_ROLLOUT, type RolloutSettings, rolloutCounts } from '../../rollout/plan.js';
import { runRollout } from '../../rollout/run.js';
import { rolloutScope } from '../../rollout/target.js';
import type { CommandContext } from '../context.js';
import { CliError } from '../io.js';

export interface RollingUpdateOptions {
  readonly maxParallel?: string;
  readonly minHealthyTime?: string;
  readonly healthyDeadline?: string;
  readonly dryRun?: boolean;
}

const short = (h: string): string => h.slice(0, 7);

/** `10s`, `1m30s`, `500ms`, `2min`, or plain seconds. */
export function parseDurationFlag(value: string, flag: string, minMs: number): number {
  const ms = parseTimeSpanMs(value);
  if (ms === null || !Number.isFinite(ms) || ms < minMs || ms > 86_400_000) {
    throw new CliError(
      `Error: invalid value "${value}" for --${flag}: expected a duration such as 10s, 1m30s or 500ms${minMs > 0 ? ` (at least ${minMs} ms)` : ''}`,
    );
  }
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 100) / 10;
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return `${m}m${Math.round((s - m * 60) * 10) / 10}s`;
}

function settingsOf(o: RollingUpdateOptions): RolloutSettings {
  const mp = o.maxParallel ?? String(DEFAULT_ROLLOUT.maxParallel);
  if (!/^[1-9]\d{0,3}$/.test(mp)) {
    throw new CliError(
      `Error: invalid value "${mp}" for --max-parallel: expected a whole number from 1 to 9999`,
    );
  }
  return {
    maxParallel: Number(mp),
    minHealthyMs:
      o.minHealthyTime === undefined
        ? DEFAULT_ROLLOUT.minHealthyMs
        : parseDurationFlag(o.minHealthyTime, 'min-healthy-time', 0),
    healthyDeadlineMs:
      o.healthyDeadline === undefined
        ? DEFAULT_ROLLOUT.healthyDeadlineMs
        : parseDurationFlag(o.healthyDeadline, 'healthy-deadline', 1000),
  };
}

export async function runRollingUpdate(
  ctx: CommandContext,
  args: readonly string[],
  o: RollingUpdateOptions,
): Promise<number> {
  if (args.length !== 1) {
    throw new CliError('Error: one template file must be given: fleetctl rolling-update TEMPLATE-FILE');
  }
  const settings = settingsOf(o);
  const path = resolve(ctx.io.cwd, ctx.model.withDefaultType(args[0] as string));
  const template = basename(path);
  const badName = ctx.model.validateName(template);
  if (badName) throw new CliError(`Error: ${badName}`);
  if (!ctx.model.isTemplate(template)) {
    throw new CliError(
      `Error: ${template} is not a template (NAME@.service): rolling-update replaces the instances of a template`,
    );
  }
  const text = ctx.io.readLocalFile(path);
  if (text === null) throw new CliError(`Error: unable to find template file ${path}`);
  let options: ReturnType<CommandContext['model']['parse']>;
  try {
    options = ctx.model.parse(text, path);
  } catch (err) {
    throw new CliError(`Error: ${errorMessage(err)}`);
  }
  const invalid = ctx.model.validateOptions(options);
  if (invalid) throw new CliError(`Error: ${template}: ${invalid}`);
  const newHash = ctx.model.hash(options);
  const check = healthCheckOf(options);

  const client = await ctx.client();
  const units = await client.listUnits();
  const scope = rolloutScope(units, template, newHash, options);
  const owned = units.filter((u) => u.origin !== undefined && scope.instances.some((i) => i.name === u.name));
  if (owned.length > 0) {
    const u = owned[0];
    throw new CliError(
      `Error: ${u?.name} was submitted by ${u?.origin} (a watched directory): change the template file there, its rollout is health-gated too`,
    );
  }
  const header =
    `${o.dryRun ? 'Would roll' : 'Rolling'} ${template} to ${short(newHash)} on ${scope.instances.length} instance(s): ` +
    `max-parallel ${settings.maxParallel}, min-healthy-time ${formatDuration(settings.minHealthyMs)}, ` +
    `healthy-deadline ${formatDuration(settings.healthyDeadlineMs)}, ` +
    (check ? `health check: ${check.command}` : 'no health check (active is enough)');

  if (scope.upToDate) {
    ctx.print.out(`Every launched instance of ${template} already runs ${short(newHash)}; nothing to roll`);
  } else if (o.dryRun) {
    ctx.print.out(header);
    const states = await client.listUnitStates();
    const target = new Map(units.map((u) => [u.name, u.machineID]));
    const down = (n: string) =>
      states.some((s) => s.unit === n && s.machineID === target.get(n) && s.systemd.active === 'active')
        ? 1
        : 0;
    const adopted = scope.instances.filter((i) => i.hash === newHash);
    const rest = scope.instances
      .filter((i) => i.hash !== newHash)
      .sort((a, b) => down(a.name) - down(b.name) || (a.name < b.name ? -1 : 1));
    for (const i of adopted) ctx.print.out(`wait for ${i.name} (already on ${short(newHash)}) to be healthy`);
    for (const i of rest) {
      const m = target.get(i.name);
      ctx.print.out(
        `replace ${i.name}${m ? ` on ${m.slice(0, 8)}` : ''} (${short(i.hash)} -> ${short(newHash)})${down(i.name) ? '' : ', not active now: first'}`,
      );
    }
  } else {
    ctx.print.out(header);
    const outcome = await runRollout(
      client,
      { newHash, healthCheck: check !== undefined, instances: scope.instances, contents: scope.contents },
      {
        settings,
        sleep: (ms) => ctx.io.sleep(ms),
        onEvent: (e, at) =>
          ctx.print.out(`[${formatDuration(Math.round(at)).padStart(7)}] ${e.unit}: ${e.text}`),
      },
    );
    const counts = rolloutCounts(outcome.state);
    const failure = outcome.state.failure;
    if (failure) {
      throw new CliError(
        `Error: rolling update of ${template} stopped: ${failure.reason}; ${counts.updated} updated, ` +
          `${counts['rolled-back']} rolled back, ${counts.waiting} not replaced (took ${formatDuration(Math.round(outcome.elapsedMs))})`,
      );
    }
    ctx.print.out(
      `Rolled ${template} to ${short(newHash)}: ${counts.updated} instance(s) updated in ${formatDuration(Math.round(outcome.elapsedMs))}` +
        (counts.skipped > 0 ? `, ${counts.skipped} skipped` : ''),
    );
  }
  // Units that do not run follow once the running ones proved the new contents.
  for (const u of scope.afterwards) {
    if (o.dryRun) {
      ctx.print.out(`replace ${u.name} (${u.desiredState}: no wait) after the running instances`);
      continue;
    }
    const spec = {
      name: u.name,
      hash: newHash,
      options,
      desiredState: u.desiredState,
      ...(u.origin !== undefined ? { origin: u.origin } : {}),
    };
    await client.createUnit(spec, { replace: true, expectHash: u.hash });
    ctx.print.out(`Replaced ${u.name} (${u.desiredState}) with ${short(newHash)}`);
  }
  return 0;
}
