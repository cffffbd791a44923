// drain / undrain (fleet-ts extension, docs/operations.md): take a machine out of service without
// stopping its fleetd. `drain` marks it (machines/<id>/drain, survives restarts); the engine then moves its
// non-global units elsewhere one at a time, each after the previous one's replacement is active. By
// default fleetctl waits until every such unit has left or is reported as unable to leave (exit 2).
import type { UnitWithTarget } from '../../../registry/types.js';
import type { CommandContext } from '../context.js';
import { CliError } from '../io.js';
import { isCronUnit, PROGRESS_AFTER_MS, PROGRESS_EVERY_MS } from '../wait.js';

export interface DrainOptions {
  /** commander's `--no-block` sets this to false. */
  readonly block?: boolean;
  /** Poll this many times (2 s each) at most; 0 waits until done. */
  readonly blockAttempts?: number;
}

const DRAIN_POLL_MS = 2000;

/** The one machine whose ID starts with `prefix` (fleet's ssh --machine rule). */
async function resolveMachine(ctx: CommandContext, prefix: string): Promise<string> {
  const client = await ctx.client();
  const found = (await client.listMachines()).filter((m) => m.id.startsWith(prefix));
  if (prefix === '' || found.length === 0) throw new CliError(`Machine ${prefix} does not exist.`);
  if (found.length > 1)
    throw new CliError(`Machine ${prefix} matches more than one machine; give more of its ID.`);
  return (found[0] as { id: string }).id;
}

/** Non-global, non-cron units the engine still has on the machine. */
const remaining = (units: readonly UnitWithTarget[], id: string): UnitWithTarget[] =>
  units.filter((u) => !u.global && !isCronUnit(u) && u.machineID === id && u.desiredState !== 'inactive');

async function setDrained(ctx: CommandContext, args: readonly string[], drained: boolean): Promise<string> {
  if (args.length !== 1) throw new CliError('One machine ID must be provided.');
  const id = await resolveMachine(ctx, args[0] as string);
  const client = await ctx.client();
  if (!client.setMachineDrained) throw new CliError('Error: this registry cannot drain machines');
  await client.setMachineDrained(id, drained);
  return id;
}

export async function runDrain(
  ctx: CommandContext,
  args: readonly string[],
  opts: DrainOptions,
): Promise<number> {
  const id = await setDrained(ctx, args, true);
  ctx.print.out(`Machine ${id} drained: no new units; moving its units elsewhere one at a time`);
  if (opts.block === false) return 0;
  const client = await ctx.client();
  const attempts = opts.blockAttempts ?? 0;
  const started = Date.now();
  let nextProgress = started + PROGRESS_AFTER_MS;
  for (let attempt = 1; ; attempt++) {
    const left = remaining(await client.listUnits(), id);
    const moving = left.filter((u) => !u.reason);
    if (moving.length === 0) {
      for (const u of left) ctx.print.out(`Unit ${u.name} stays on machine ${id}: ${u.reason}`);
      ctx.print.out(
        left.length === 0
          ? `Machine ${id} is drained: no units left but global ones`
          : `Machine ${id} is drained except ${left.length} unit(s) that cannot run elsewhere`,
      );
      return left.length === 0 ? 0 : 2;
    }
    if (attempts > 0 && attempt >= attempts) {
      throw new CliError(`timed out waiting for ${moving.length} unit(s) to leave machine ${id}`);
    }
    if (Date.now() >= nextProgress) {
      const secs = Math.round((Date.now() - started) / 1000);
      const names = moving.slice(0, 3).map((u) => u.name);
      const more = moving.length > 3 ? ` and ${moving.length - 3} more` : '';
      ctx.print.err(
        `Waiting for ${moving.length} unit(s) to leave machine ${id} (${secs}s): ${names.join(', ')}${more}`,
      );
      nextProgress = Date.now() + PROGRESS_EVERY_MS;
    }
    await ctx.io.sleep(DRAIN_POLL_MS);
  }
}

export async function runUndrain(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const id = await setDrained(ctx, args, false);
  ctx.print.out(`Machine ${id} undrained: it takes new units again`);
  return 0;
}
