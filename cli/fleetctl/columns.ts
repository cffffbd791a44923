// The columns of fleetctl's list commands. Each column maps a row to its table text (fleet's
// `(row, full) => string`) and to a JSON value for `--output json`; `--fields` is checked against the
// same table, so a column cannot be printable but unselectable or vice versa.
import type { MachineHealth } from '../../registry/ops-records.js';
import type { UnitWithTarget } from '../../registry/types.js';
import type { MachineState, UnitStateReport } from '../../units/types.js';
import { CliError } from './io.js';
import { type MachineRef, machineFullLegend, machineIDLegend } from './legend.js';
import { formatTable } from './tabwriter.js';

export interface Column<T> {
  text(row: T, full: boolean): string;
  json(row: T): unknown;
}
export type ColumnTable<T> = Readonly<Record<string, Column<T>>>;

const dash = (s: string | undefined): string => (s ? s : '-');
const hashText = (hash: string, full: boolean): string => (hash ? (full ? hash : hash.slice(0, 7)) : '-');

export const DEFAULT_LIST_UNITS_FIELDS = 'unit,machine,active,sub';
export const DEFAULT_LIST_UNIT_FILES_FIELDS = 'unit,hash,dstate,state,target';
export const DEFAULT_LIST_MACHINES_FIELDS = 'machine,ip,metadata';

/** list-units: one row per (unit, machine) state report. */
export function listUnitsColumns(machine: (id: string) => MachineRef): ColumnTable<UnitStateReport> {
  return {
    unit: { text: (r) => dash(r.unit), json: (r) => r.unit },
    load: { text: (r) => dash(r.systemd.load), json: (r) => r.systemd.load || null },
    active: { text: (r) => dash(r.systemd.active), json: (r) => r.systemd.active || null },
    sub: { text: (r) => dash(r.systemd.sub), json: (r) => r.systemd.sub || null },
    machine: {
      text: (r, full) => (r.machineID ? machineFullLegend(machine(r.machineID), full) : '-'),
      json: (r) => (r.machineID ? { id: r.machineID, ip: machine(r.machineID).publicIP || null } : null),
    },
    hash: { text: (r, full) => hashText(r.hash, full), json: (r) => r.hash || null },
    // fleet-ts: the unit's [X-Fleet] HealthCheck= result; `-` when it declares none.
    health: {
      text: (r, full) => {
        const h = r.health;
        if (!h) return '-';
        return h.detail && full ? `${h.status}: ${h.detail}` : h.status;
      },
      json: (r) => r.health ?? null,
    },
  };
}

function description(u: UnitWithTarget): string | undefined {
  const values = u.options.filter((o) => o.section === 'Unit' && o.name === 'Description');
  return values[values.length - 1]?.value;
}

function scheduleOf(u: UnitWithTarget): string | undefined {
  const values = u.options.filter((o) => o.section === 'X-Fleet' && o.name === 'Schedule');
  return values[values.length - 1]?.value.trim() || undefined;
}

/** list-unit-files: one row per unit in the registry. */
export function listUnitFilesColumns(machine: (id: string) => MachineRef): ColumnTable<UnitWithTarget> {
  const target: Column<UnitWithTarget> = {
    text: (u, full) => {
      if (u.global) return 'global';
      return u.machineID ? machineFullLegend(machine(u.machineID), full) : '-';
    },
    json: (u) =>
      u.global
        ? 'global'
        : u.machineID
          ? { id: u.machineID, ip: machine(u.machineID).publicIP || null }
          : null,
  };
  return {
    unit: { text: (u) => u.name, json: (u) => u.name },
    hash: { text: (u, full) => hashText(u.hash, full), json: (u) => u.hash },
    dstate: { text: (u) => dash(u.desiredState), json: (u) => u.desiredState },
    state: {
      text: (u) => (u.global ? '-' : dash(u.currentState)),
      json: (u) => (u.global ? null : (u.currentState ?? null)),
    },
    target,
    tmachine: target,
    global: { text: (u) => String(u.global), json: (u) => u.global },
    desc: { text: (u) => dash(description(u)), json: (u) => description(u) ?? null },
    // fleet-ts extension (cluster cron): the Schedule= expression, `-` for ordinary units.
    schedule: { text: (u) => dash(scheduleOf(u)), json: (u) => scheduleOf(u) ?? null },
    // fleet-ts extension: why the engine cannot place the unit, `-` when it can.
    reason: { text: (u) => dash(u.reason), json: (u) => u.reason ?? null },
  };
}

/** list-machines: one row per announced machine; `health` (etcd driver) fills leader/units/heartbeat. */
export function listMachinesColumns(health?: MachineHealth): ColumnTable<MachineState> {
  const metadataText = (m: MachineState): string => {
    const keys = Object.keys(m.metadata).sort();
    return keys.length === 0 ? '-' : keys.map((k) => `${k}=${m.metadata[k]}`).join(',');
  };
  return {
    machine: { text: (m, full) => machineIDLegend(m, full), json: (m) => m.id },
    ip: { text: (m) => dash(m.publicIP), json: (m) => m.publicIP || null },
    metadata: { text: metadataText, json: (m) => ({ ...m.metadata }) },
    // fleet-ts extensions: drain state, fleetd version, engine leader, units scheduled, heartbeat age.
    state: {
      text: (m) => (m.drained ? 'drained' : 'active'),
      json: (m) => (m.drained ? 'drained' : 'active'),
    },
    version: { text: (m) => dash(m.version), json: (m) => m.version || null },
    leader: {
      text: (m) => (health ? String(health.leader === m.id) : '-'),
      json: (m) => (health ? health.leader === m.id : null),
    },
    units: {
      text: (m) => (health ? String(health.units.get(m.id) ?? 0) : '-'),
      json: (m) => (health ? (health.units.get(m.id) ?? 0) : null),
    },
    heartbeat: {
      text: (m) => {
        const age = health?.heartbeatAge.get(m.id);
        return age === undefined ? '-' : `${age}s`;
      },
      json: (m) => health?.heartbeatAge.get(m.id) ?? null,
    },
  };
}

/** Parses `--fields` exactly as fleet does (comma-split, no trimming) and validates every key. */
export function selectFields<T>(table: ColumnTable<T>, fieldsFlag: string): string[] {
  if (fieldsFlag === '') throw new CliError('Must define output format');
  const fields = fieldsFlag.split(',');
  for (const f of fields) {
    if (!Object.hasOwn(table, f)) throw new CliError(`Invalid key in output format: "${f}"`);
  }
  return fields;
}

export interface RenderOptions {
  readonly full: boolean;
  readonly legend: boolean;
}

export function renderTable<T>(
  table: ColumnTable<T>,
  fields: readonly string[],
  rows: readonly T[],
  opts: RenderOptions,
): string {
  const cols = fields.map((f) => table[f] as Column<T>);
  const lines: string[][] = [];
  if (opts.legend) lines.push(fields.map((f) => f.toUpperCase()));
  for (const r of rows) lines.push(cols.map((c) => c.text(r, opts.full)));
  return formatTable(lines);
}

/** `--output json`: an array of objects keyed by the selected fields, with untruncated values. */
export function renderJson<T>(table: ColumnTable<T>, fields: readonly string[], rows: readonly T[]): string {
  const data = rows.map((r) => Object.fromEntries(fields.map((f) => [f, (table[f] as Column<T>).json(r)])));
  return `${JSON.stringify(data, null, 2)}\n`;
}
