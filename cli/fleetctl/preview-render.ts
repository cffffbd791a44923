// How `fleetctl plan` and `sync --dry-run` print a placement preview (engine/preview.ts): a fleet-style
// TAB table UNIT, CHANGE, MACHINE, REASON, or with `--output json` an array of objects following the
// listing rules of docs/operations.md (keys = the lower-case column names, values untruncated, `null`
// when empty, a machine as `{id, ip}`).

import type { Preview, PreviewRow } from '../../engine/preview.js';
import type { MachineState } from '../../units/types.js';
import { type MachineRef, machineFullLegend, machineLookup } from './legend.js';
import { formatTable } from './tabwriter.js';

export interface PreviewRenderOptions {
  readonly full: boolean;
  readonly legend: boolean;
}

function machineText(row: PreviewRow, ref: (id: string) => MachineRef, full: boolean): string {
  const at = (id: string) => machineFullLegend(ref(id), full);
  if (row.machine && row.from) return `${at(row.from)} -> ${at(row.machine)}`;
  if (row.machine) return at(row.machine);
  if (row.from) return `${at(row.from)} -> -`;
  return '-';
}

function reasonText(row: PreviewRow): string {
  const r = row.reason ?? '-';
  return row.pending ? `${r} (pending, not caused by these units)` : r;
}

export function renderPreviewTable(
  preview: Preview,
  machines: readonly MachineState[],
  opts: PreviewRenderOptions,
): string {
  const ref = machineLookup(machines);
  const lines: string[][] = [];
  if (opts.legend) lines.push(['UNIT', 'CHANGE', 'MACHINE', 'REASON']);
  for (const row of preview.rows)
    lines.push([row.unit, row.change, machineText(row, ref, opts.full), reasonText(row)]);
  return formatTable(lines);
}

export function renderPreviewJson(preview: Preview, machines: readonly MachineState[]): string {
  const ref = machineLookup(machines);
  const machine = (id: string | undefined) => (id ? { id, ip: ref(id).publicIP || null } : null);
  const data = preview.rows.map((r) => ({
    unit: r.unit,
    change: r.change,
    machine: machine(r.machine),
    from: machine(r.from),
    reason: r.reason ?? null,
    proposed: r.proposed,
    pending: r.pending === true,
  }));
  return `${JSON.stringify(data, null, 2)}\n`;
}
