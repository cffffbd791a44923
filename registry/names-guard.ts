// Guards applied to every name that becomes part of a registry key: a `/` or `..` in a unit name or
// machine ID would address another key (e.g. `job/../engine/leader`), so such writes are refused.

import { hostCollisionProblem } from '../units/host-units.js';
import { validateMachineID, validateUnitName } from '../units/names.js';
import type { UnitOption } from '../units/types.js';

export class InvalidNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidNameError';
  }
}

/** validateUnitName, fleet-ts's one unit name rule, which refuses `/` and `..` anywhere in a name. */
export function assertUnitName(name: string): void {
  const problem = validateUnitName(name);
  if (problem !== null) throw new InvalidNameError(problem);
}

/** validateMachineID: no `/`, no `..`. */
export function assertMachineID(id: string): void {
  const problem = validateMachineID(id);
  if (problem !== null) throw new InvalidNameError(problem);
}

/**
 * The submit-time rule of a new unit: a valid name that is not reserved for the host's own units,
 * and an [Install] section that neither aliases nor hooks into one (units/host-units.ts).
 */
export function assertSubmittable(name: string, options: readonly UnitOption[]): void {
  assertUnitName(name);
  const problem = hostCollisionProblem(name, options);
  if (problem !== null) throw new InvalidNameError(problem);
}
