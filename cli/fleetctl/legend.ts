// How fleetctl names machines: `abcd1234...` (first 8 chars of the ID) or the full ID with --full, plus
// `/<public IP>` in the "full legend" when the IP is known.
import type { MachineState } from '../../units/types.js';

export interface MachineRef {
  readonly id: string;
  readonly publicIP?: string;
}

export function shortMachineID(id: string): string {
  return id.length <= 8 ? id : id.slice(0, 8);
}

export function machineIDLegend(m: MachineRef, full: boolean): string {
  return full ? m.id : `${shortMachineID(m.id)}...`;
}

export function machineFullLegend(m: MachineRef, full: boolean): string {
  const id = machineIDLegend(m, full);
  return m.publicIP ? `${id}/${m.publicIP}` : id;
}

/** A machine by ID; unknown machines (gone, or not yet announced) are shown by ID alone, as fleet does. */
export function machineLookup(machines: readonly MachineState[]): (id: string) => MachineRef {
  const byID = new Map(machines.map((m) => [m.id, m]));
  return (id) => byID.get(id) ?? { id };
}
