// cat: the unit file exactly as stored (fleet's serialization), without an extra trailing newline.
import type { CommandContext } from '../context.js';
import { assertSafeUnitName } from '../create.js';
import { CliError } from '../io.js';

export async function runCat(ctx: CommandContext, args: readonly string[]): Promise<number> {
  if (args.length !== 1) throw new CliError('One unit file must be provided');
  const name = ctx.model.mangle(args[0] as string);
  assertSafeUnitName(ctx, name);
  const client = await ctx.client();
  const u = await client.getUnit(name);
  if (!u) throw new CliError(`Unit ${name} not found`);
  ctx.io.stdout(ctx.model.serialize(u.options));
  return 0;
}
