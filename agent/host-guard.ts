// The agent's last check before it links a unit into systemd's runtime directory: the unit must not
// take the place of a unit the host already has (a file in any of systemd's unit directories), must
// not be a template, and its [Install] section must not alias or hook into a host unit. The registry
// refuses reserved names at submit time (units/host-units.ts); this catches what that list cannot know
// (the units of this host) and records written straight into etcd.
import { lstat, readlink } from 'node:fs/promises';
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

/** The host path that holds `name`, ignoring fleet's own links; null when the host has no such unit. */
async function hostFileOf(name: string, opts: HostGuardOptions): Promise<string | null> {
  const systemdDir = resolve(opts.systemdDir);
  const unitsDir = resolve(opts.unitsDir);
  const dirs = new Set([...(opts.hostDirs ?? HOST_UNIT_DIRS), systemdDir].map((d) => resolve(d)));
  for (const dir of dirs) {
    const p = join(dir, name);
    try {
      const st = await lstat(p);
      if (dir === systemdDir && st.isSymbolicLink()) {
        // fleet's links (and the alias links `enable` made for them) point into the units directory
        // or at another of fleet's links in this directory.
        const target = resolve(dir, await readlink(p));
        if (target.startsWith(`${unitsDir}/`) || target.startsWith(`${systemdDir}/`)) continue;
      }
      return p;
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) continue;
      throw err;
    }
  }
  return null;
}

/** Pure checks plus a look at the host's unit directories; null when the unit may be linked. */
export async function hostRefusal(
  name: string,
  text: string,
  opts: HostGuardOptions,
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
    const file = await hostFileOf(candidate, opts);
    if (file !== null) {
      return {
        code: 'host-unit',
        reason: `the host has its own ${candidate} (${file}); linking ${name} would shadow it`,
      };
    }
  }
  for (const { setting, name: other } of installTouches(options)) {
    const file = await hostFileOf(other, opts);
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

  constructor(
    private readonly opts: HostGuardOptions & { readonly log: Logger; readonly machineID: string },
  ) {}

  /** True when the unit may be linked; a refusal is logged once per unit version. */
  async admit(name: string, hash: string, text: string): Promise<boolean> {
    const known = this.verdicts.get(name);
    if (known && known.hash === hash) return known.refusal === null;
    const refusal = await hostRefusal(name, text, this.opts);
    this.verdicts.set(name, { hash, refusal });
    if (refusal !== null) {
      this.opts.log.error(
        { machine: this.opts.machineID, unit: name, hash, refusal: refusal.code },
        `refusing unit ${name} scheduled to ${this.opts.machineID}: ${refusal.reason}`,
      );
    }
    return refusal === null;
  }

  /** Forgets units no longer scheduled here, so that their refused states are deleted. */
  retain(scheduled: ReadonlySet<string> | ReadonlyMap<string, unknown>): void {
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
