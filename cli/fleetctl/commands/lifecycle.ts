// submit, load, start, stop, unload, restart, destroy: change desired states and (unless --no-block)
// wait for the cluster to get there, printing fleet's lines. Return value = exit code.
import type { UnitWithTarget } from '../../../registry/types.js';
import { errorMessage } from '../../../units/common.js';
import type { DesiredState } from '../../../units/types.js';
import type { FleetClient } from '../client.js';
import type { CommandContext } from '../context.js';
import { lazyCreateUnits } from '../create.js';
import { exitFor, type FoundUnits, findUnits } from '../find-units.js';
import { writeInOrder } from '../in-order.js';
import { CliError } from '../io.js';
import { waitForRestart } from '../restart-wait.js';
import { unitLookup } from '../unit-lookup.js';
import {
  isCronUnit,
  type WaitContext,
  waitForSystemdActive,
  waitForUnitStates,
  waitForUnitsGone,
} from '../wait.js';

export interface BlockOptions {
  /** commander's `--no-block` sets this to false. */
  readonly block?: boolean;
  readonly blockAttempts?: number;
}
export interface CreateOptions extends BlockOptions {
  readonly replace?: boolean;
}

/** Go's `%v` of a string slice. */
const goList = (names: readonly string[]): string => `[${names.join(' ')}]`;

/** Every unit command needs at least one unit; unlike fleet (exit 0) a missing argument is an error. */
function requireUnits(args: readonly string[]): void {
  if (args.length === 0) throw new CliError('No units given');
}

/** The units named on the command line that exist (see findUnits), and the client that read them. */
async function existingUnits(
  ctx: CommandContext,
  args: readonly string[],
): Promise<{ client: FleetClient; found: FoundUnits }> {
  requireUnits(args);
  const client = await ctx.client();
  return { client, found: await findUnits(ctx, client, args) };
}

function waitCtx(ctx: CommandContext, client: FleetClient): WaitContext {
  return { client, io: ctx.io, print: ctx.print };
}

/**
 * fleet's setTargetStateOfUnits: sets `state` on every named unit whose desired state differs; returns
 * the units it changed. Templates cannot be activated (the API's 400 in fleet). `only` leaves out the
 * units it rejects, from the same read (one listing for many units: see unitLookup).
 */
async function setTargetStates(
  ctx: CommandContext,
  client: FleetClient,
  names: readonly string[],
  state: DesiredState,
  verb: string,
  only: (u: UnitWithTarget) => boolean = () => true,
): Promise<UnitWithTarget[]> {
  const units: UnitWithTarget[] = [];
  const lookup = unitLookup(client, names.length);
  for (const name of names) {
    const u = await lookup.get(name);
    if (!u) throw new CliError(`Error ${verb} units: unable to find unit ${name}`);
    if (!only(u)) continue;
    if (state !== 'inactive' && ctx.model.isTemplate(name)) {
      throw new CliError(`Error ${verb} units: cannot activate template "${name}"`);
    }
    units.push(u);
  }
  const triggered = units.filter((u) => u.desiredState !== state);
  await setDesired(client, triggered, state);
  return triggered;
}

/**
 * Writes `state` on the units: one transaction per chunk when the driver can (the engine then sees them
 * at once), else one at a time: the engine places launched units in launch order (least-loaded machine
 * first), so concurrent writes would make placement depend on which request landed first.
 */
async function setDesired(client: FleetClient, units: readonly UnitWithTarget[], state: DesiredState) {
  if (client.setDesiredStates && units.length > 1) {
    await client.setDesiredStates(
      units.map((u) => u.name),
      state,
    );
  } else for (const u of units) await client.setDesiredState(u.name, state);
}

export async function runSubmit(
  ctx: CommandContext,
  args: readonly string[],
  opts: CreateOptions,
): Promise<number> {
  requireUnits(args);
  await lazyCreateUnits(ctx, 'submit', args, { replace: opts.replace ?? false, attempts: attemptsOf(opts) });
  return 0;
}

function attemptsOf(opts: BlockOptions): number {
  if (opts.block === false) return -1;
  return opts.blockAttempts && opts.blockAttempts > 0 ? opts.blockAttempts : 0;
}

/** Prints the errors of a wait and turns them into the command's failure. */
function failOnWaitErrors(ctx: CommandContext, errors: readonly string[], summary: string): void {
  if (errors.length === 0) return;
  for (const e of errors) ctx.print.err(`Error waiting for units: ${e}`);
  throw new CliError(
    `${summary}: ${errors[0]}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`,
  );
}

async function finishTransition(
  ctx: CommandContext,
  client: FleetClient,
  triggered: readonly UnitWithTarget[],
  state: DesiredState,
  verb: 'load' | 'start' | 'stop' | 'unload',
  attempts: number,
  failure: string,
): Promise<number> {
  const waiting: string[] = [];
  for (const u of triggered) {
    if (u.global) ctx.print.out(`Triggered global unit ${u.name} ${verb}`);
    else waiting.push(u.name);
  }
  if (attempts < 0) {
    for (const n of waiting) ctx.print.out(`Triggered unit ${n} ${verb}`);
    return 0;
  }
  const { errors, reached } = await waitForUnitStates(waitCtx(ctx, client), waiting, state, attempts);
  failOnWaitErrors(ctx, errors, failure);
  if (verb === 'start') {
    const sysErrors = await waitForSystemdActive(waitCtx(ctx, client), reached, attempts);
    failOnWaitErrors(ctx, sysErrors, 'Error waiting for systemd unit states');
  }
  return 0;
}

export function runLoad(ctx: CommandContext, args: readonly string[], opts: CreateOptions): Promise<number> {
  return createAndSet(ctx, args, opts, 'load');
}

export function runStart(ctx: CommandContext, args: readonly string[], opts: CreateOptions): Promise<number> {
  return createAndSet(ctx, args, opts, 'start');
}

/** load and start: create the named units that are not in the registry yet, set their state, wait. */
async function createAndSet(
  ctx: CommandContext,
  args: readonly string[],
  opts: CreateOptions,
  verb: 'load' | 'start',
): Promise<number> {
  requireUnits(args);
  const attempts = attemptsOf(opts);
  const names = await lazyCreateUnits(ctx, verb, args, { replace: opts.replace ?? false, attempts });
  const client = await ctx.client();
  const state = verb === 'start' ? 'launched' : 'loaded';
  // Unlike fleet, `load` never stops a launched unit: it only loads units that are inactive.
  const only = verb === 'load' ? (u: UnitWithTarget) => u.desiredState !== 'launched' : undefined;
  const triggered = await setTargetStates(ctx, client, names, state, `${verb}ing`, only);
  return finishTransition(
    ctx,
    client,
    triggered,
    state,
    verb,
    attempts,
    'Error waiting for unit states, exit status',
  );
}

export function runStop(ctx: CommandContext, args: readonly string[], opts: BlockOptions): Promise<number> {
  return settle(ctx, args, opts, 'stop', (units) => {
    // Checked for all units before changing any, so a refused stop changes nothing.
    // A global unit is stopped whatever its state (as in fleet). A cluster cron unit is placed nowhere
    // between ticks: its desired state is its state (inactive = unloaded, loaded = paused).
    const stateOf = (u: UnitWithTarget): string =>
      isCronUnit(u) ? u.desiredState : (u.currentState ?? 'inactive');
    for (const u of units) {
      if (!u.global && stateOf(u) === 'inactive') {
        throw new CliError(`Unable to stop unit ${u.name} in state inactive`);
      }
    }
    return units.filter((u) => u.global || stateOf(u) !== 'loaded' || u.desiredState === 'launched');
  });
}

export function runUnload(ctx: CommandContext, args: readonly string[], opts: BlockOptions): Promise<number> {
  return settle(ctx, args, opts, 'unload', (units) =>
    units.filter(
      (u) => u.global || (u.currentState ?? 'inactive') !== 'inactive' || u.desiredState !== 'inactive',
    ),
  );
}

/**
 * stop and unload: set the desired state of the named units `choose` picks, wait (unless --no-block)
 * and print fleet's "Successfully stopped/unloaded units [...]" or fail with "Failed to stop/unload units".
 */
async function settle(
  ctx: CommandContext,
  args: readonly string[],
  opts: BlockOptions,
  verb: 'stop' | 'unload',
  choose: (units: readonly UnitWithTarget[]) => UnitWithTarget[],
): Promise<number> {
  const { client, found } = await existingUnits(ctx, args);
  const triggered = choose(found.units);
  const target = verb === 'stop' ? 'loaded' : 'inactive';
  await setDesired(client, triggered, target);
  const waiting = triggered.filter((u) => !u.global).map((u) => u.name);
  try {
    await finishTransition(ctx, client, triggered, target, verb, attemptsOf(opts), 'wait failed');
  } catch (err) {
    throw new CliError(`Failed to ${verb} units ${goList(waiting)}. err: ${errorMessage(err)}`);
  }
  ctx.print.err(`Successfully ${verb === 'stop' ? 'stopped' : 'unloaded'} units ${goList(waiting)}.`);
  return exitFor(found);
}

export async function runDestroy(
  ctx: CommandContext,
  args: readonly string[],
  opts: BlockOptions,
): Promise<number> {
  const { client, found } = await existingUnits(ctx, args);
  const units = found.units;
  const destroyed: string[] = [];
  const done = (u: UnitWithTarget, gone: boolean) => {
    if (gone) destroyed.push(u.name);
    ctx.print.out(`Destroyed ${u.name}`);
  };
  if (client.destroyUnits && units.length > 1) {
    const results = await client.destroyUnits(units.map((u) => u.name));
    for (const [i, u] of units.entries()) done(u, results[i] ?? false);
  } else await writeInOrder(units, (u) => client.destroyUnit(u.name), done);
  // Unlike fleet (which inverted --no-block here), wait until the agents have unloaded the units.
  const errors = await waitForUnitsGone(waitCtx(ctx, client), destroyed, attemptsOf(opts));
  failOnWaitErrors(ctx, errors, 'Error destroying units');
  return exitFor(found);
}

export async function runRestart(
  ctx: CommandContext,
  args: readonly string[],
  opts: BlockOptions,
): Promise<number> {
  requireUnits(args);
  const attempts = attemptsOf(opts);
  const names = await lazyCreateUnits(ctx, 'restart', args, { replace: false, attempts });
  const client = await ctx.client();
  const w = waitCtx(ctx, client);
  const failed: string[] = [];
  for (const name of names) {
    const u = await client.getUnit(name);
    if (!u) throw new CliError(`Unit ${name} not found`);
    if (u.global) {
      // A global unit runs everywhere: bump its restart generation; every agent running it restarts it.
      if (!client.restartUnit)
        throw new CliError(
          `Unable to restart global unit ${name}: this fleet API has no restart extension (POST /fleet/v1/units/<name>/restart); use --driver=etcd`,
        );
      if (u.desiredState !== 'launched') {
        await client.setDesiredState(name, 'launched');
        ctx.print.out(`Triggered global unit ${name} start`);
        continue;
      }
      const generation = await client.restartUnit(name);
      ctx.print.out(`Triggered global unit ${name} restart`);
      const errs = await waitForRestart(
        w,
        name,
        generation,
        undefined,
        attempts,
        (m) => `Unit ${name} restarted on ${m}`,
      );
      failOnWaitErrors(ctx, errs, `Error restarting unit ${name}`);
      continue;
    }
    if (isCronUnit(u)) {
      // A cluster cron unit runs nothing between ticks, so there is nothing to stop: restart arms a
      // paused schedule (like start) and leaves an armed one alone. It does not run the job at once
      // nor cut a run in progress short: only a tick starts a run. An unloaded one is refused as fleet
      // refuses an inactive unit.
      if (u.desiredState === 'inactive') {
        ctx.print.err(`Unable to restart unit ${name} in state inactive`);
        failed.push(name);
        continue;
      }
      if (u.desiredState !== 'launched') await client.setDesiredState(name, 'launched');
      if (attempts < 0) {
        ctx.print.out(`Triggered unit ${name} restart`);
        continue;
      }
      const armed = await waitForUnitStates(w, [name], 'launched', attempts);
      failOnWaitErrors(ctx, armed.errors, `Error restarting unit ${name}`);
      continue;
    }
    const current = u.currentState ?? 'inactive';
    if (current === 'inactive') {
      ctx.print.err(`Unable to restart unit ${name} in state inactive`);
      failed.push(name);
      continue;
    }
    if (current === 'launched' && client.restartUnit) {
      // `systemctl restart` on its machine (restart generation): no window in which it is placed but stopped.
      const generation = await client.restartUnit(name);
      if (attempts < 0) {
        ctx.print.out(`Triggered unit ${name} restart`);
        continue;
      }
      const errs = await waitForRestart(
        w,
        name,
        generation,
        u.machineID,
        attempts,
        (m) => `Unit ${name} launched on ${m}`,
      );
      failOnWaitErrors(ctx, errs, `Error restarting unit ${name}`);
      continue;
    }
    if (current === 'launched') {
      // An API without the restart extension: really stop first: wait until the agent reports the unit loaded (stopped) before starting it.
      await client.setDesiredState(name, 'loaded');
      const stop = await waitForUnitStates(w, [name], 'loaded', Math.max(attempts, 0));
      failOnWaitErrors(ctx, stop.errors, `Error restarting unit ${name}`);
    }
    await client.setDesiredState(name, 'launched');
    if (attempts < 0) {
      ctx.print.out(`Triggered unit ${name} restart`);
      continue;
    }
    const start = await waitForUnitStates(w, [name], 'launched', attempts);
    failOnWaitErrors(ctx, start.errors, `Error restarting unit ${name}`);
    const sys = await waitForSystemdActive(w, start.reached, attempts);
    failOnWaitErrors(ctx, sys, `Error restarting unit ${name}`);
  }
  if (failed.length > 0) throw new CliError(`Failed to restart units ${goList(failed)}.`);
  return 0;
}
