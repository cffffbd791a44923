// Pure derivations over registry records: values fleet computes on read rather than stores.

import type { DesiredState, MachineState } from '../units/types.js';

/**
 * fleet's current state of a non-global unit (fleet `determineJobState`): 'inactive' when the unit is not
 * scheduled or its target machine has not reported it, otherwise what that machine's agent achieved.
 * Global units have no current state (fleet shows `-`), hence undefined.
 */
export function deriveCurrentState(input: {
  readonly global: boolean;
  readonly targetMachine: string | undefined;
  /** agentState reported by the target machine for this unit, if any. */
  readonly reportedByTarget: 'loaded' | 'launched' | undefined;
}): DesiredState | undefined {
  if (input.global) return undefined;
  if (input.targetMachine === undefined || input.reportedByTarget === undefined) return 'inactive';
  return input.reportedByTarget;
}

/**
 * Dynamic metadata (PATCH /machines) over the metadata the agent announced. An empty value is a
 * tombstone: it hides the announced key, so a PATCH can remove metadata set in the config file.
 */
export function mergeMachineMetadata(
  machine: MachineState,
  dynamic: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
): MachineState {
  const entries = dynamic instanceof Map ? [...dynamic.entries()] : Object.entries(dynamic);
  if (entries.length === 0) return machine;
  const metadata: Record<string, string> = { ...machine.metadata };
  for (const [k, v] of entries) {
    if (v === '') delete metadata[k];
    else metadata[k] = v;
  }
  return { ...machine, metadata };
}
