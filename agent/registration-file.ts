// What lets a fleetd restarted on the same host (after SIGKILL or a crash) resume its own machine
// registration instead of waiting for it to expire or being refused as an intruder: the lease ID it
// registered with, kept under /run/fleet (gone at reboot) together with the kernel's boot ID (so a
// /run that survived a reboot, e.g. in a container, is not trusted). Another host with the same
// machine ID has neither, so it is refused while the owner lives (registry/agent-store.ts).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';

interface Saved {
  readonly machineID: string;
  readonly bootID: string;
  readonly leaseID: string;
}

/** The lease to resume, when the file was written by this boot for this machine ID. */
export function parseRegistration(text: string, machineID: string, bootID: string): string | undefined {
  try {
    const s = JSON.parse(text) as Partial<Saved>;
    if (
      s.machineID === machineID &&
      s.bootID === bootID &&
      typeof s.leaseID === 'string' &&
      /^\d+$/.test(s.leaseID)
    )
      return s.leaseID;
  } catch {
    // unreadable: start afresh
  }
  return undefined;
}

export class RegistrationFile {
  constructor(
    readonly path: string,
    private readonly machineID: string,
    private readonly bootID: string,
  ) {}

  static bootID(): string {
    try {
      return readFileSync(BOOT_ID_FILE, 'utf8').trim();
    } catch {
      return '';
    }
  }

  load(): string | undefined {
    if (!this.bootID) return undefined;
    try {
      return parseRegistration(readFileSync(this.path, 'utf8'), this.machineID, this.bootID);
    } catch {
      return undefined;
    }
  }

  /** Records the lease in use ('' after leaving the cluster: nothing to resume). Best effort. */
  save(leaseID: string): void {
    try {
      if (!leaseID) {
        rmSync(this.path, { force: true });
        return;
      }
      mkdirSync(dirname(this.path), { recursive: true });
      const saved: Saved = { machineID: this.machineID, bootID: this.bootID, leaseID };
      const tmp = `${this.path}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(saved)}\n`, { mode: 0o600 });
      renameSync(tmp, this.path);
    } catch {
      // a read-only /run only costs the resume after a crash
    }
  }
}
