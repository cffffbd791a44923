// Key names of the registry layout documented in ./types.ts. Every key is relative to the key prefix
// (the etcd3 client is namespaced to it), so these functions never see the prefix.

export const UNIT_CONTENT_PREFIX = 'unit/';
export const JOB_PREFIX = 'job/';
export const SCHEDULE_PREFIX = 'schedule/';
export const MACHINES_PREFIX = 'machines/';
export const STATE_PREFIX = 'state/';
export const ENGINE_LEADER_KEY = 'engine/leader';

export const unitContentKey = (hash: string): string => `${UNIT_CONTENT_PREFIX}${hash}`;
export const jobKey = (unit: string): string => `${JOB_PREFIX}${unit}`;
/** The schedule of one machine: the agent watches this prefix only. */
export const machineSchedulePrefix = (machineID: string): string => `${SCHEDULE_PREFIX}${machineID}/`;
export const scheduleKey = (machineID: string, unit: string): string =>
  `${machineSchedulePrefix(machineID)}${unit}`;
export const machineObjectKey = (machineID: string): string => `${MACHINES_PREFIX}${machineID}/object`;
export const machineMetadataPrefix = (machineID: string): string =>
  `${MACHINES_PREFIX}${machineID}/metadata/`;
export const machineMetadataKey = (machineID: string, key: string): string =>
  `${machineMetadataPrefix(machineID)}${key}`;
/** fleet-ts extension: present (no lease) while the machine is drained; value JSON {since}. */
export const machineDrainKey = (machineID: string): string => `${MACHINES_PREFIX}${machineID}/drain`;
export const machineStatePrefix = (machineID: string): string => `${STATE_PREFIX}${machineID}/`;
export const unitStateKey = (machineID: string, unit: string): string =>
  `${machineStatePrefix(machineID)}${unit}`;

/** Splits `schedule/<machine>/<unit>` or `state/<machine>/<unit>` (relative keys) into its parts. */
export function splitMachineUnitKey(prefix: string, key: string): { machineID: string; unit: string } | null {
  if (!key.startsWith(prefix)) return null;
  const rest = key.slice(prefix.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return null;
  return { machineID: rest.slice(0, slash), unit: rest.slice(slash + 1) };
}

export type MachineKey =
  | { kind: 'object'; machineID: string }
  | { kind: 'metadata'; machineID: string; key: string }
  | { kind: 'drain'; machineID: string };

/** Parses `machines/<id>/object`, `machines/<id>/metadata/<k>` and `machines/<id>/drain` (relative keys). */
export function parseMachineKey(key: string): MachineKey | null {
  if (!key.startsWith(MACHINES_PREFIX)) return null;
  const rest = key.slice(MACHINES_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  const machineID = rest.slice(0, slash);
  const tail = rest.slice(slash + 1);
  if (tail === 'object') return { kind: 'object', machineID };
  if (tail === 'drain') return { kind: 'drain', machineID };
  if (tail.startsWith('metadata/') && tail.length > 'metadata/'.length) {
    return { kind: 'metadata', machineID, key: tail.slice('metadata/'.length) };
  }
  return null;
}
