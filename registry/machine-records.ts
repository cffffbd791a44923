// The engine's raw machine records: each machine's object, dynamic metadata and drain mark, merged
// into the MachineState the engine sees.

import type { MachineState } from '../units/types.js';
import { mergeMachineMetadata } from './current-state.js';

/** Raw machine records: each machine's object and its dynamic metadata, merged on every change of either. */
export class MachineRecords {
  private readonly objects = new Map<string, MachineState>();
  private readonly metadata = new Map<string, Map<string, string>>();
  private readonly drained = new Set<string>();

  ids(): Iterable<string> {
    return this.objects.keys();
  }

  setObject(id: string, m: MachineState | null): void {
    if (m) this.objects.set(id, m);
    else this.objects.delete(id);
  }

  setMetadata(id: string, key: string, value: string | null): void {
    const md = this.metadata.get(id) ?? new Map<string, string>();
    if (value === null) md.delete(key);
    else md.set(key, value);
    if (md.size === 0) this.metadata.delete(id);
    else this.metadata.set(id, md);
  }

  setDrained(id: string, drained: boolean): void {
    if (drained) this.drained.add(id);
    else this.drained.delete(id);
  }

  /** The machine as the engine sees it; null while it has no object (absent or gone). */
  merged(id: string): MachineState | null {
    const obj = this.objects.get(id);
    if (!obj) return null;
    const m = mergeMachineMetadata({ ...obj, id }, this.metadata.get(id) ?? new Map());
    return this.drained.has(id) ? { ...m, drained: true } : m;
  }

  clone(): MachineRecords {
    const c = new MachineRecords();
    for (const [id, m] of this.objects) c.objects.set(id, m);
    for (const [id, md] of this.metadata) c.metadata.set(id, new Map(md));
    for (const id of this.drained) c.drained.add(id);
    return c;
  }
}
