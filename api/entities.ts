// fleet's API v1 JSON entities (types in ./schema.ts), built from registry data. fleet's generated Go
// structs marshal fields in alphabetical order and omit empty ones (`omitempty`): every builder
// below writes keys in that order and leaves out empty strings, empty lists and empty maps, so the
// bytes match fleet's replies.

import type { UnitWithTarget } from '../registry/types.js';
import type { RunRecord } from '../units/runs.js';
import type { MachineState, UnitOption, UnitStateReport } from '../units/types.js';
import type {
  ApiErrorBody,
  ApiMachine,
  ApiPageKey,
  ApiRun,
  ApiUnit,
  ApiUnitOption,
  ApiUnitState,
} from './schema.js';

/** Copies `fields` in the given order, dropping empty strings, empty arrays and empty objects. */
function omitEmpty<T extends object>(fields: [keyof T & string, unknown][]): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of fields) {
    if (v === undefined || v === '') continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out as T;
}

export function apiOption(o: UnitOption): ApiUnitOption {
  return omitEmpty<ApiUnitOption>([
    ['name', o.name],
    ['section', o.section],
    ['value', o.value],
  ]);
}

/** A global unit has no machine and fleet shows its current state as `inactive`. */
export function apiUnit(u: UnitWithTarget): ApiUnit {
  return omitEmpty<ApiUnit>([
    ['currentState', u.currentState ?? 'inactive'],
    ['desiredState', u.desiredState],
    ['machineID', u.global ? undefined : u.machineID],
    ['name', u.name],
    ['options', u.options.map(apiOption)],
    ['reason', u.reason],
  ]);
}

export function apiUnitState(s: UnitStateReport): ApiUnitState {
  return omitEmpty<ApiUnitState>([
    ['hash', s.hash],
    ['health', s.health],
    ['machineID', s.machineID],
    ['name', s.unit],
    ['restartGeneration', s.restart],
    ['systemdActiveState', s.systemd.active],
    ['systemdLoadState', s.systemd.load],
    ['systemdSubState', s.systemd.sub],
  ]);
}

export function apiRun(r: RunRecord): ApiRun {
  return omitEmpty<ApiRun>([
    ['endedAt', r.endedAt],
    ['exitStatus', r.exitStatus],
    ['late', r.late === true ? true : undefined],
    ['machineID', r.machineID],
    ['reason', r.reason],
    ['result', r.result],
    ['startedAt', r.startedAt],
    ['status', r.status],
    ['tick', r.tick],
    ['unit', r.unit],
  ]);
}

/** Metadata keys sorted, as Go marshals maps. */
export function apiMachine(m: MachineState): ApiMachine {
  const metadata: Record<string, string> = {};
  for (const k of Object.keys(m.metadata).sort()) metadata[k] = m.metadata[k] as string;
  return omitEmpty<ApiMachine>([
    ['drained', m.drained ? true : undefined],
    ['id', m.id],
    ['metadata', metadata],
    ['primaryIP', m.publicIP],
  ]);
}

/** A page: `{}` when empty (fleet omits the empty list); keys alphabetical (`machines` < `nextPageToken` < `states` < `units`). */
export function apiPage(listKey: ApiPageKey, items: readonly object[], next?: string): object {
  const fields: [string, unknown][] = [
    [listKey, items.length > 0 ? items : undefined],
    ['nextPageToken', next],
  ];
  fields.sort(([a], [b]) => (a < b ? -1 : 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of fields) if (v !== undefined) out[k] = v;
  return out;
}

export function apiError(code: number, message: string): ApiErrorBody {
  return { error: { code, message } };
}
