// The agent's last check before it links a unit into systemd's runtime directory: the unit must not
// take the place of a unit the host already has (a file in any of systemd's unit directories), must
// not be a template, and its [Install] section must not alias or hook into a host unit. The registry
// refuses reserved names at submit time (units/host-units.ts); this catches what that list cannot know
// (the units of this host) and records written straight into etcd.
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { hostCollisionProblem, installTouches } from '../units/host-units.js';
import type { Logger } from '../units/log.js';
import { parseUnitName } from '../units/names.js';
import { parseUnitFile } from '../units/parse.js';
import type { UnitOption } from '../units/types.js';
import type { AgentStateRecord } from './store.js';

/** systemd's unit search path for the system manager (systemd.unit(5)), runtime and generators included. */
export const HOST_UNIT_DIRS: readonly string[] = [
  '/etc/systemd/system.control',
  '/run/systemd/system.control',
  '/run/systemd/transient',
  '/run/systemd/generator.early',
  '/etc/systemd/system',
  '/run/systemd/system',
  '/run/systemd/generator',
  '/usr/local/lib/systemd/system',
  '/lib/systemd/system',
  '/usr/lib/systemd/system',
  '/run/systemd/generator.late',
];

/** Why a unit was refused; `code` is the SUB column of its published state (LOAD says `refused`). */
export interface HostRefusal {
  readonly code: 'template' | 'reserved' | 'host-unit' | 'install-hook';
  readonly reason: string;
}

export interface HostGuardOptions {
  /** Where the agent links its units (a link from here into unitsDir is fleet's, not the host's). */
  readonly systemdDir: string;
  readonly unitsDir: string;
  readonly hostDirs?: readonly string[];
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

/**
 * The names in the host's unit directories, each directory read once (lazily) per listing: checking a
 * unit with one lstat per directory and candidate took ~26 sequential lstats per template instance,
 * 260,000 at 10k units, which made the 10k-unit benchmark wait on the thread pool for tens of seconds.
 */
export class HostDirListing {
  private readonly dirs: readonly string[];
  private readonly names = new Map<string, Promise<ReadonlySet<string>>>();
  private readonly systemdDir: string;
  private readonly unitsDir: string;

  constructor(opts: HostGuardOptions) {
    this.systemdDir = resolve(opts.systemdDir);
    this.unitsDir = resolve(opts.unitsDir);
    this.dirs = [...new Set([...(opts.hostDirs ?? HOST_UNIT_DIRS), this.systemdDir].map((d) => resolve(d)))];
  }

  /** The host path that holds `name`, ignoring fleet's own links; null when the host has no such unit. */
  async fileOf(name: string): Promise<string | null> {
    for (const dir of this.dirs) {
      if (!(await this.list(dir)).has(name)) continue;
      const p = join(dir, name);
      if (dir === this.systemdDir) {
        try {
          if ((await lstat(p)).isSymbolicLink()) {
            const target = resolve(dir, await readlink(p));
            if (target.startsWith(`${this.unitsDir}/`) || target.startsWith(`${this.systemdDir}/`)) continue;
          }
        } catch (err) {
          if (isErrno(err, 'ENOENT')) continue; // removed since the listing
          throw err;
        }
      }
      return p;
    }
    return null;
  }

  private list(dir: string): Promise<ReadonlySet<string>> {
    let names = this.names.get(dir);
    if (!names) {
      names = readdir(dir).then(
        (entries) => new Set(entries),
        (err: unknown) => {
          if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return new Set<string>();
          throw err;
        },
      );
      this.names.set(dir, names);
    }
    return names;
  }
}

/** Pure checks plus a look at the host's unit directories; null when the unit may be linked. */
export async function hostRefusal(
  name: string,
  text: string,
  opts: HostGuardOptions,
  listing = new HostDirListing(opts),
): Promise<HostRefusal | null> {
  const info = parseUnitName(name);
  if (info.isTemplate) {
    return {
      code: 'template',
      reason: `${name} is a template: fleet starts instances of templates (name@instance), never the template`,
    };
  }
  let options: UnitOption[] = [];
  try {
    options = parseUnitFile(text);
  } catch {
    // Contents the registry holds were parsed when submitted; garbage written straight into etcd
    // has no [Install] section the agent could act on, so only the name is checked.
  }
  const pure = hostCollisionProblem(name, options);
  if (pure !== null)
    return { code: pure.startsWith('[Install]') ? 'install-hook' : 'reserved', reason: pure };
  for (const candidate of info.template ? [name, info.template] : [name]) {
    const file = await listing.fileOf(candidate);
    if (file !== null) {
      return {
        code: 'host-unit',
        reason: `the host has its own ${candidate} (${file}); linking ${name} would shadow it`,
      };
    }
  }
  for (const { setting, name: other } of installTouches(options)) {
    const file = await listing.fileOf(other);
    if (file !== null) {
      return {
        code: 'install-hook',
        reason: `[Install] ${setting}=${other} names the host's own unit (${file})`,
      };
    }
  }
  return null;
}

/**
 * Remembers the refusals of the units scheduled to this machine: each unit version is checked and
 * logged once, and its state is published as LOAD `refused`, ACTIVE `failed`, SUB the refusal code,
 * so `fleetctl list-units` shows it and `fleetctl start` stops waiting with an error.
 */
export class HostUnitGuard {
  private readonly verdicts = new Map<string, { hash: string; refusal: HostRefusal | null }>();
  /** The host's unit directories as listed in this turn (see retain). */
  private listing: HostDirListing | null = null;

  constructor(
    private readonly opts: HostGuardOptions & { readonly log: Logger; readonly machineID: string },
  ) {}

  /** True when the unit may be linked; a refusal is logged once per unit version. */
  async admit(name: string, hash: string, text: string): Promise<boolean> {
    const known = this.verdicts.get(name);
    if (known && known.hash === hash) return known.refusal === null;
    this.listing ??= new HostDirListing(this.opts);
    const refusal = await hostRefusal(name, text, this.opts, this.listing);
    this.verdicts.set(name, { hash, refusal });
    if (refusal !== null) {
      this.opts.log.error(
        { machine: this.opts.machineID, unit: name, hash, refusal: refusal.code },
        `refusing unit ${name} scheduled to ${this.opts.machineID}: ${refusal.reason}`,
      );
    }
    return refusal === null;
  }

  /**
   * Starts a reconcile turn: forgets units no longer scheduled here, so that their refused states are
   * deleted, and reads the host's unit directories again at the turn's first check.
   */
  retain(scheduled: ReadonlySet<string> | ReadonlyMap<string, unknown>): void {
    this.listing = null;
    for (const name of [...this.verdicts.keys()]) if (!scheduled.has(name)) this.verdicts.delete(name);
  }

  /** The state records of the refused units. */
  refusedStates(): Map<string, AgentStateRecord> {
    const out = new Map<string, AgentStateRecord>();
    for (const [name, v] of this.verdicts) {
      if (v.refusal === null) continue;
      out.set(name, {
        hash: v.hash,
        load: 'refused',
        active: 'failed',
        sub: v.refusal.code,
        agentState: 'loaded',
      });
    }
    return out;
  }
}
