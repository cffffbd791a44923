// version and the deprecated verify.
import { FLEET_TS_VERSION } from '../../../units/version.js';
import type { CommandContext } from '../context.js';

export function runVersion(ctx: CommandContext): number {
  ctx.print.out(`fleetctl version ${FLEET_TS_VERSION}`);
  return 0;
}

export function runVerify(ctx: CommandContext): number {
  ctx.print.err('Command "verify" is deprecated, DEPRECATED - No longer works');
  ctx.print.err('WARNING: The signed/verified units feature is DEPRECATED and cannot be used.');
  return 2;
}
