// version and the deprecated verify.
import { FLEET_TS_VERSION } from '../../../units/version.js';
import type { CommandContext } from '../context.js';

export const FLEETCTL_VERSION = FLEET_TS_VERSION;

export function runVersion(ctx: CommandContext): number {
  ctx.print.out(`fleetctl version ${FLEETCTL_VERSION}`);
  return 0;
}

export function runVerify(ctx: CommandContext): number {
  ctx.print.err('Command "verify" is deprecated, DEPRECATED - No longer works');
  ctx.print.err('WARNING: The signed/verified units feature is DEPRECATED and cannot be used.');
  return 2;
}
