// Facts about the local host that fleetd announces: machine ID and public IP. Pure over their inputs
// so that they are testable; the callers pass the real /etc/machine-id and os.networkInterfaces().
import type { NetworkInterfaceInfo } from 'node:os';

export const MACHINE_ID_FILE = '/etc/machine-id';

/** Thrown when fleetd cannot identify its machine (fleet: fatal). */
export class MachineIDError extends Error {
  constructor(detail?: string) {
    super(`unable to determine local machine ID${detail ? `: ${detail}` : ''}`);
    this.name = 'MachineIDError';
  }
}

/** The machine ID from the contents of /etc/machine-id, trimmed; empty or unsafe → MachineIDError. */
export function parseMachineID(contents: string): string {
  const id = contents.trim();
  if (id === '') throw new MachineIDError();
  // The ID becomes part of etcd keys (schedule/<id>/...): a '/' would let it reach other machines' keys.
  if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new MachineIDError(`invalid characters in ${JSON.stringify(id)}`);
  return id;
}

/** The first non-loopback IPv4 address (interfaces in the order the OS lists them), '' when none. */
export function firstNonLoopbackIPv4(
  interfaces: Readonly<Record<string, readonly NetworkInterfaceInfo[] | undefined>>,
): string {
  for (const addrs of Object.values(interfaces)) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('127.')) return a.address;
    }
  }
  return '';
}
