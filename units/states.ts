// fleet's desired ("target") states: the only values a unit's desired state may take.

import { DESIRED_STATES, type DesiredState } from './types.js';

export function isDesiredState(s: unknown): s is DesiredState {
  return typeof s === 'string' && (DESIRED_STATES as readonly string[]).includes(s);
}

/** Throws `invalid desired state "x": expected inactive, loaded or launched`. */
export function parseDesiredState(s: string): DesiredState {
  if (isDesiredState(s)) return s;
  throw new Error(`invalid desired state ${JSON.stringify(s)}: expected inactive, loaded or launched`);
}
