// The restart generations an agent applied (agent/restart.ts), kept under /run/fleet with the kernel's
// boot ID: a fleetd restarted on the same boot resumes them, so a `fleetctl restart` issued while it
// was down is still applied to the units it re-adopts. After a reboot (other boot ID, or /run gone)
// nothing is resumed: every unit was started afresh anyway.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RestartMemory } from './restart.js';

/** Pure: the generations saved by this boot, else none. */
export function parseRestartFile(text: string, bootID: string): Map<string, number> {
  const out = new Map<string, number>();
  try {
    const saved = JSON.parse(text) as { bootID?: unknown; applied?: unknown };
    if (saved.bootID !== bootID || typeof saved.applied !== 'object' || saved.applied === null) return out;
    for (const [unit, g] of Object.entries(saved.applied as Record<string, unknown>))
      if (typeof g === 'number' && Number.isSafeInteger(g) && g >= 0) out.set(unit, g);
  } catch {
    // unreadable: start afresh
  }
  return out;
}

export class RestartFile implements RestartMemory {
  constructor(
    readonly path: string,
    private readonly bootID: string,
  ) {}

  load(): ReadonlyMap<string, number> {
    if (!this.bootID) return new Map();
    try {
      return parseRestartFile(readFileSync(this.path, 'utf8'), this.bootID);
    } catch {
      return new Map();
    }
  }

  /** Best effort: a read-only /run only costs restarts requested while fleetd is down. */
  save(applied: ReadonlyMap<string, number>): void {
    if (!this.bootID) return;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      const tmp = `${this.path}.tmp`;
      writeFileSync(
        tmp,
        `${JSON.stringify({ bootID: this.bootID, applied: Object.fromEntries(applied) })}\n`,
        {
          mode: 0o600,
        },
      );
      renameSync(tmp, this.path);
    } catch {
      // see above
    }
  }
}
