// sync DIR [--watch] [--dry-run] [--origin NAME]: the watched-directory convergence (cli/watch/) run
// from fleetctl, once or until interrupted. --dry-run prints the plan, one line per unit action, then
// (once, not with --watch) the placements it would lead to, as `fleetctl plan`; it writes nothing. Exit
// code 1 when a file could not be used or an action failed (after doing the rest); a dry run exits 2
// when a unit would not be placed.
import { resolve } from 'node:path';
import { createLogger } from '../../../units/log.js';
import { formatAction, watchOrigin } from '../../watch/plan.js';
import { type PassReport, startUnitDirWatcher, syncUnitDirOnce } from '../../watch/watcher.js';
import type { CommandContext } from '../context.js';
import { CliError } from '../io.js';
import { printSyncPlacements } from './sync-preview.js';

export interface SyncOptions {
  readonly watch?: boolean;
  readonly dryRun?: boolean;
  /** Ownership name: units are recorded with origin `watch:<origin>` (default: the absolute DIR). */
  readonly origin?: string;
}

/**
 * Prints one pass; returns whether it had problems. `seen` (watch mode) keeps each distinct problem to
 * one line, as the fleetd watcher does in its log.
 */
function printPass(ctx: CommandContext, pass: PassReport, dryRun: boolean, seen?: Set<string>): boolean {
  const problem = (msg: string) => {
    if (seen?.has(msg)) return;
    seen?.add(msg);
    ctx.print.err(msg);
  };
  if (pass.error) {
    problem(`Error: ${pass.error}`);
    return true;
  }
  for (const p of pass.plan.problems) problem(p.pending ? `${p.message}; retry later` : p.message);
  if (dryRun) {
    for (const a of pass.plan.actions) ctx.print.out(formatAction(a));
    if (pass.plan.actions.length === 0) ctx.print.out('nothing to do');
  } else {
    for (const a of pass.result?.applied ?? []) ctx.print.out(formatAction(a));
    for (const f of pass.result?.failed ?? []) problem(f.error);
  }
  return pass.plan.problems.length > 0 || (pass.result?.failed.length ?? 0) > 0;
}

export async function runSync(ctx: CommandContext, args: readonly string[], o: SyncOptions): Promise<number> {
  if (args.length !== 1) throw new CliError('Error: one directory must be provided: fleetctl sync DIR');
  const dir = resolve(ctx.io.cwd, args[0] as string);
  if (o.origin !== undefined && (o.origin === '' || /[\s\u0000-\u001f]/u.test(o.origin))) {
    throw new CliError(
      `Error: invalid --origin "${o.origin}": must be non-empty, without spaces or control characters`,
    );
  }
  const origin = o.origin ?? dir;
  const client = await ctx.client();
  // This command prints its own one-line messages; the JSON log only when asked for.
  const log = createLogger('fleetctl-sync', { level: ctx.io.env.FLEET_LOG_LEVEL ?? 'silent' });
  const dryRun = o.dryRun === true;

  if (!o.watch) {
    const pass = await syncUnitDirOnce({ dir, origin: watchOrigin(origin), registry: client, log, dryRun });
    const problems = printPass(ctx, pass, dryRun);
    // --dry-run: then where the units would run (as `fleetctl plan`); 2 when something would not place.
    const placed =
      dryRun && !pass.error && pass.plan.actions.length > 0
        ? await printSyncPlacements(ctx, pass.plan.actions)
        : 0;
    return problems ? 1 : placed;
  }

  const seen = new Set<string>();
  let lastPlan = '';
  const watcher = startUnitDirWatcher({
    dir,
    origin,
    registry: client,
    log,
    ...(dryRun ? { dryRun: true } : {}),
    onPass: (pass) => {
      if (dryRun) {
        const plan = pass.plan.actions.map(formatAction).join('\n');
        if (plan !== lastPlan && plan !== '') ctx.print.out(plan);
        lastPlan = plan;
        pass = { ...pass, plan: { ...pass.plan, actions: [] } };
      }
      printPass(ctx, pass, false, seen);
    },
  });
  await new Promise<void>((done) => {
    const finish = () => {
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      done();
    };
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
  });
  await watcher.stop();
  return 0;
}
