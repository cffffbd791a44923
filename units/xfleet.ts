// The [X-Fleet] section: fleet's scheduling requirements (job/job.go) and option validation
// (api.ValidateOptions), over plain option lists.

import { goTrimSpace } from './go-text.js';
import { HEALTH_CHECK_KEYS, validateHealthCheck } from './health-check.js';
import { parseUnitFile, UnitParseError } from './parse.js';
import { MAX_GLOB_CHECKS, PatternIndex } from './pattern-index.js';
import { SCHEDULE_KEYS, type ScheduleValues, scheduleSpecFrom, validateSchedule } from './schedule.js';
import { serializeUnit } from './serialize.js';
import { expandSpecifiers } from './specifiers.js';
import { stopTimeoutMs } from './stop-timeout.js';
import type { Requirements, UnitOption } from './types.js';

export const XFLEET_SECTION = 'X-Fleet';

/** Every key fleet understands, including the deprecated `X-`/`X-Condition` spellings. */
export const KNOWN_XFLEET_KEYS: readonly string[] = [
  'MachineID',
  'X-ConditionMachineID',
  'X-ConditionMachineBootID',
  'MachineOf',
  'X-ConditionMachineOf',
  'MachineMetadata',
  'X-ConditionMachineMetadata',
  'Conflicts',
  'X-Conflicts',
  'Global',
  'Replaces',
  // fleet-ts extension: cluster cron (units/schedule.ts).
  ...SCHEDULE_KEYS,
  // fleet-ts extension: at-most-one opt-in (units/stop-timeout.ts).
  'StopOnDisconnect',
  // fleet-ts extension: health check run by the agent, gates rolling updates (units/health-check.ts).
  ...HEALTH_CHECK_KEYS,
];

/** Last raw value of each Schedule* key (not split: a cron expression contains spaces). */
function scheduleValues(options: readonly UnitOption[]): ScheduleValues {
  const out: ScheduleValues = {};
  for (const opt of options) {
    if (opt.section !== XFLEET_SECTION) continue;
    if ((SCHEDULE_KEYS as readonly string[]).includes(opt.name)) {
      out[opt.name as (typeof SCHEDULE_KEYS)[number]] = opt.value;
    }
  }
  return out;
}

/**
 * fleet's parseMultivalueLine: a value that starts and ends with `"` is split on spaces outside
 * quotes and the quotes are dropped (`"a=b" "c=d"` gives `a=b`, `c=d`); any other value is one item.
 * Like fleet, consecutive spaces give empty items.
 */
export function parseMultivalue(value: string): string[] {
  if (!value.startsWith('"') || !value.endsWith('"')) return [value];
  const values: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') {
      quoted = !quoted;
    } else if (ch === ' ' && !quoted) {
      values.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  values.push(current);
  return values;
}

/** [X-Fleet] values by key, each value already split by parseMultivalue; keys in first-seen order. */
function xfleetValues(options: readonly UnitOption[]): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const opt of options) {
    if (opt.section !== XFLEET_SECTION) continue;
    const list = byKey.get(opt.name) ?? [];
    list.push(...parseMultivalue(opt.value));
    byKey.set(opt.name, list);
  }
  return byKey;
}

/** Go's strings.Fields. */
function fields(s: string): string[] {
  return goTrimSpace(s)
    .split(/[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u)
    .filter((f) => f !== '');
}

/** A `key=value` metadata requirement, or null when fleet would ignore it (not exactly one `=`, or an empty side). */
function splitMetadata(pair: string): [string, string] | null {
  const parts = pair.split('=');
  if (parts.length !== 2) return null;
  const [key, value] = parts as [string, string];
  if (key === '' || value === '') return null;
  return [key, value];
}

function isTruthy(value: string): boolean {
  return ['true', 'yes', '1', 'on', 't'].includes(value.toLowerCase());
}

/** Appends `value` to `metadata[key]` once (a set, not a list scan: thousands of values are linear). */
function addUnique(metadata: Record<string, string[]>, seen: Set<string>, key: string, value: string): void {
  // Keys never contain '=' (splitMetadata), so key=value identifies the pair.
  const id = `${key}=${value}`;
  if (seen.has(id)) return;
  seen.add(id);
  const values = metadata[key] ?? [];
  values.push(value);
  metadata[key] = values;
}

/** The requirements of a unit as written (specifiers not expanded). */
export function parseRequirements(options: readonly UnitOption[]): Requirements {
  const byKey = xfleetValues(options);
  const get = (key: string): string[] => byKey.get(key) ?? [];

  // fleet looks at MachineID, then X-ConditionMachineID, then X-ConditionMachineBootID; first value only.
  const machineID =
    get('MachineID')[0] ?? get('X-ConditionMachineID')[0] ?? get('X-ConditionMachineBootID')[0];

  const metadata: Record<string, string[]> = Object.create(null);
  const seen = new Set<string>();
  for (const pair of [...get('X-ConditionMachineMetadata'), ...get('MachineMetadata')]) {
    const kv = splitMetadata(pair);
    if (kv === null) continue;
    const [key, value] = kv;
    addUnique(metadata, seen, key, value);
  }

  const globals = get('Global');
  const last = globals[globals.length - 1];
  const schedule = scheduleSpecFrom(scheduleValues(options));
  const stopFlags = get('StopOnDisconnect');
  const stopLast = stopFlags[stopFlags.length - 1];
  const stopOnDisconnect =
    stopLast !== undefined && isTruthy(stopLast) ? { stopTimeoutMs: stopTimeoutMs(options) } : undefined;

  return {
    ...(machineID !== undefined ? { machineID } : {}),
    machineOf: [...get('X-ConditionMachineOf'), ...get('MachineOf')],
    metadata,
    conflicts: [...get('X-Conflicts'), ...get('Conflicts')].flatMap(fields),
    global: last !== undefined && isTruthy(last),
    replaces: get('Replaces'),
    unknownKeys: [...byKey.keys()].filter((k) => !KNOWN_XFLEET_KEYS.includes(k)),
    ...(schedule ? { schedule } : {}),
    ...(stopOnDisconnect ? { stopOnDisconnect } : {}),
  };
}

/**
 * Requirements with %n %N %p %i expanded against the unit's name, as fleet evaluates them.
 * fleet expands before splitting, so metadata pairs and conflicts that expand to nothing are dropped
 * (e.g. `MachineMetadata=host=%i` on a non-instance unit imposes no constraint).
 */
export function resolveRequirements(req: Requirements, unitName: string): Requirements {
  const x = (v: string): string => expandSpecifiers(v, unitName);
  const metadata: Record<string, string[]> = Object.create(null);
  const seen = new Set<string>();
  for (const [key, values] of Object.entries(req.metadata)) {
    for (const value of values) {
      const kv = splitMetadata(`${x(key)}=${x(value)}`);
      if (kv === null) continue;
      addUnique(metadata, seen, kv[0], kv[1]);
    }
  }
  return {
    ...(req.machineID !== undefined ? { machineID: x(req.machineID) } : {}),
    machineOf: req.machineOf.map(x),
    metadata,
    conflicts: req.conflicts.map(x).flatMap(fields),
    global: req.global,
    replaces: req.replaces.map(x),
    unknownKeys: req.unknownKeys,
    ...(req.schedule ? { schedule: req.schedule } : {}),
    ...(req.stopOnDisconnect ? { stopOnDisconnect: req.stopOnDisconnect } : {}),
  };
}

/** Is this a global unit (Global= truthy, last value wins)? */
export function isGlobalUnit(options: readonly UnitOption[]): boolean {
  return parseRequirements(options).global;
}

/** A validation problem and the option to point at: that option, or the first [X-Fleet] one under `keys` (holding `value`). */
export interface OptionProblem {
  readonly message: string;
  readonly option?: UnitOption;
  readonly keys?: readonly string[];
  readonly value?: string;
}

const PEER_KEYS = ['MachineOf', 'X-ConditionMachineOf'];
const CONFLICT_KEYS = ['Conflicts', 'X-Conflicts'];

/**
 * fleet's api.ValidateOptions: the first problem, or null. Messages are fleet's, in fleet's order.
 * Stricter than fleet in two ways:
 *  - options must read back unchanged after serialization (fleet stores the serialized text, so a
 *    value with surrounding whitespace or a trailing backslash would silently change);
 *  - every MachineMetadata value must be `key=value` with exactly one `=` and both sides non-empty
 *    (fleet silently ignored other values, which dropped the constraint).
 */
export function validateOptions(options: readonly UnitOption[]): string | null {
  return findOptionProblem(options)?.message ?? null;
}

/** validateOptions with the option the problem is about (units/unit-file-check.ts turns it into a line). */
export function findOptionProblem(options: readonly UnitOption[]): OptionProblem | null {
  const grouped = parseUnitFileOrder(options);
  let reread: UnitOption[];
  try {
    reread = parseUnitFile(serializeUnit(options));
  } catch (err) {
    if (!(err instanceof UnitParseError)) throw err;
    return { message: err.message, option: optionAtSerializedLine(grouped, err.line) };
  }
  const changed = findChangedOption(grouped, reread);
  if (changed !== null) return changed;

  const req = parseRequirements(options);
  const peers = unique(req.machineOf);
  const conflicts = unique(req.conflicts);
  const replaces = unique(req.replaces);
  const conflictIndex = new PatternIndex(conflicts);
  const replaceIndex = new PatternIndex(replaces);
  const globChecks = peers.length * (conflictIndex.globCount + replaceIndex.globCount);
  if (globChecks > MAX_GLOB_CHECKS) {
    const message =
      `too many [X-Fleet] combinations: ${peers.length} MachineOf × ` +
      `${conflictIndex.globCount + replaceIndex.globCount} wildcard Conflicts/Replaces (max ${MAX_GLOB_CHECKS})`;
    return { message, keys: PEER_KEYS };
  }
  for (const peer of peers) {
    const conflict = conflictIndex.firstMatch(peer);
    if (conflict !== undefined) {
      const message = `unresolvable requirements: peer ${JSON.stringify(peer)} matches conflict ${JSON.stringify(conflict)}`;
      return { message, keys: PEER_KEYS, value: peer };
    }
    const replace = replaceIndex.firstMatch(peer);
    if (replace !== undefined) {
      const message = `unresolvable requirements: peer ${JSON.stringify(peer)} matches replace ${JSON.stringify(replace)}`;
      return { message, keys: PEER_KEYS, value: peer };
    }
  }
  const hasTarget = req.machineID !== undefined;
  const hasPeers = peers.length > 0;
  const hasConflicts = conflicts.length > 0;
  const hasReplaces = replaces.length > 0;
  // Each pair points at the option named second in the message.
  const pairs: [boolean, string, readonly string[]][] = [
    [hasTarget && hasPeers, 'MachineID cannot be used with Peers', PEER_KEYS],
    [hasTarget && hasConflicts, 'MachineID cannot be used with Conflicts', CONFLICT_KEYS],
    [hasTarget && req.global, 'MachineID cannot be used with Global', ['Global']],
    [hasTarget && hasReplaces, 'MachineID cannot be used with Replaces', ['Replaces']],
    [req.global && hasPeers, 'Global cannot be used with Peers', PEER_KEYS],
    [req.global && hasReplaces, 'Global cannot be used with Replaces', ['Replaces']],
    [hasConflicts && hasReplaces, 'Conflicts cannot be used with Replaces', ['Replaces']],
    // A global unit runs on every machine: there is no second copy to fence against, and stopping it on
    // a disconnected machine would be exactly the cluster-wide outage StopOnDisconnect must not cause.
    [
      req.global && req.stopOnDisconnect !== undefined,
      'StopOnDisconnect cannot be used with Global',
      ['StopOnDisconnect'],
    ],
    [
      req.schedule !== undefined && req.stopOnDisconnect !== undefined,
      'StopOnDisconnect cannot be used with Schedule',
      ['StopOnDisconnect'],
    ],
  ];
  for (const [bad, message, keys] of pairs) if (bad) return { message, keys };

  const byKey = xfleetValues(options);
  for (const key of ['X-ConditionMachineMetadata', 'MachineMetadata']) {
    for (const pair of byKey.get(key) ?? []) {
      if (splitMetadata(pair) === null) {
        const message = `invalid ${key} value ${JSON.stringify(pair)}: expected key=value with exactly one "=" and a non-empty key and value`;
        return { message, keys: [key], value: pair };
      }
    }
  }
  const message = validateHealthCheck(options) ?? validateSchedule(scheduleValues(options), req.global);
  if (message === null) return null;
  // The key the message names first (health check and schedule messages start with or name one).
  const named = [...HEALTH_CHECK_KEYS, ...SCHEDULE_KEYS, 'Global'].filter((k) =>
    new RegExp(`\\b${k}\\b`).test(message),
  );
  return { message, keys: named.length > 0 ? named : [...HEALTH_CHECK_KEYS, ...SCHEDULE_KEYS] };
}

/** The option on line `line` of serializeUnit's text (grouped options; a header and a blank line per section). */
function optionAtSerializedLine(grouped: readonly UnitOption[], line: number): UnitOption | undefined {
  let at = 0;
  let section: string | undefined;
  for (const opt of grouped) {
    if (opt.section !== section) {
      at += section === undefined ? 1 : 2;
      section = opt.section;
    }
    const first = at + 1;
    at += 1 + (opt.value.match(/\n/g)?.length ?? 0);
    if (line >= first && line <= at) return opt;
  }
  return grouped[grouped.length - 1];
}

/** Serialization groups options by section, so `grouped` is in that order. */
function findChangedOption(
  grouped: readonly UnitOption[],
  reread: readonly UnitOption[],
): OptionProblem | null {
  for (let i = 0; i < Math.max(grouped.length, reread.length); i++) {
    const a = grouped[i];
    const b = reread[i];
    if (a === undefined) return { message: 'options do not survive serialization', option: grouped.at(-1) };
    if (b === undefined || a.section !== b.section || a.name !== b.name || a.value !== b.value) {
      const message =
        `option ${JSON.stringify(a.name)} in section [${a.section}] would not read back unchanged ` +
        '(surrounding whitespace, a trailing backslash, or "=", newline or "]" where they cannot be stored)';
      return { message, option: a };
    }
  }
  return null;
}

/** Options in the order serializeUnit writes them (grouped by section, first-seen section order). */
function parseUnitFileOrder(options: readonly UnitOption[]): UnitOption[] {
  const bySection = new Map<string, UnitOption[]>();
  for (const opt of options) {
    const list = bySection.get(opt.section) ?? [];
    list.push(opt);
    bySection.set(opt.section, list);
  }
  return [...bySection.values()].flat();
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/**
 * Does a machine with this metadata satisfy the unit's MachineMetadata?
 * Values of one key are alternatives (OR); different keys must all hold (AND); exact string match;
 * a machine without a required key fails.
 */
export function machineMatchesMetadata(
  req: Requirements,
  metadata: Readonly<Record<string, string>>,
): boolean {
  for (const [key, accepted] of Object.entries(req.metadata)) {
    if (!Object.hasOwn(metadata, key)) return false;
    const local = metadata[key];
    if (local === undefined || !accepted.includes(local)) return false;
  }
  return true;
}

/** Does the machine satisfy MachineID (none set: any machine)? Full ID or its first 8 characters. */
export function machineMatchesID(req: Requirements, machineID: string): boolean {
  if (req.machineID === undefined) return true;
  const shortID = machineID.length <= 8 ? machineID : machineID.slice(0, 8);
  return req.machineID === machineID || req.machineID === shortID;
}
