// Units that belong to the host, not to fleet: the static list checked at submit time (a fleet unit
// linked into /run/systemd/system under a host unit's name would replace the host's own). The agent
// also refuses names that exist on its host (agent/host-guard.ts); docs/limits.md explains the rules.
// Design notes: docs/architecture.md, "units/host-units.ts".
import { validateUnitName } from './names.js';
import type { UnitOption } from './types.js';

/**
 * Names no fleet unit may take on any host: systemd's own units, the login and SSH units an operator
 * needs to reach a broken host, fleet's and etcd's units, and mounts of the system's directories.
 * Go path.Match patterns (units/glob.ts); `name@*` covers a template and all its instances.
 */
export const RESERVED_UNIT_PATTERNS: readonly string[] = [
  '-.mount',
  '-.slice',
  'init.scope',
  'systemd-*',
  'dbus.service',
  'dbus.socket',
  'dbus-*',
  'ssh.service',
  'ssh.socket',
  'ssh@*',
  'sshd.service',
  'sshd.socket',
  'sshd@*',
  'sshd-*',
  'getty@*',
  'serial-getty@*',
  'container-getty@*',
  'console-getty.service',
  'autovt@*',
  'user@*',
  'user-runtime-dir@*',
  'emergency.*',
  'rescue.*',
  'fleet.service',
  'fleet.socket',
  'fleetd.service',
  'etcd.service',
  'etcd2.service',
  'etcd-member.service',
  'boot.mount',
  'boot-*.mount',
  'efi.mount',
  'etc.mount',
  'etc-*.mount',
  'usr.mount',
  'usr-*.mount',
  'var.mount',
  'run.mount',
  'run-systemd*.mount',
  'run-user*.mount',
  'proc*.mount',
  'sys-*.mount',
  'dev-*.mount',
  'tmp.mount',
];

/**
 * The patterns as one RegExp, built once: they hold only literals and `*` (never `/`), for which this
 * equals globMatch (test/unit/host-units.test.ts compares both). Matching each name against 58 globs
 * took 34 ms of `fleetctl start` of 300 units.
 */
const RESERVED_RE = new RegExp(
  `^(?:${RESERVED_UNIT_PATTERNS.map((p) => {
    if (/[?[\\\]]/u.test(p)) throw new Error(`reserved unit pattern ${p}: only literals and * are supported`);
    return p.replace(/[.+^${}()|]/gu, '\\$&').replaceAll('*', '[^/]*');
  }).join('|')})$`,
  'u',
);

/** Why `name` is reserved for the host (one line), or null. */
export function reservedUnitProblem(name: string): string | null {
  if (!RESERVED_RE.test(name)) return null;
  return `unit name ${JSON.stringify(name)} is reserved for the host's own units: fleet units must not shadow them`;
}

/** The [Install] settings the agent's `systemctl enable --runtime --force` acts on. */
export interface InstallHooks {
  /** Alias=: extra names, linked into /run/systemd/system by enable. */
  readonly aliases: readonly string[];
  /** Also=: other units enabled together with this one. */
  readonly also: readonly string[];
  /** WantedBy=/RequiredBy=/UpheldBy=: units that get a .wants/.requires/.upholds link to this one. */
  readonly hookedInto: readonly string[];
}

const words = (value: string): string[] => value.split(/\s+/u).filter((w) => w !== '');

export function installHooks(options: readonly UnitOption[]): InstallHooks {
  const aliases: string[] = [];
  const also: string[] = [];
  const hookedInto: string[] = [];
  for (const o of options) {
    if (o.section !== 'Install') continue;
    if (o.name === 'Alias') aliases.push(...words(o.value));
    else if (o.name === 'Also') also.push(...words(o.value));
    else if (o.name === 'WantedBy' || o.name === 'RequiredBy' || o.name === 'UpheldBy')
      hookedInto.push(...words(o.value));
  }
  return { aliases, also, hookedInto };
}

/** Targets are systemd's hook points: `WantedBy=multi-user.target` is fleet's documented use. */
const isTarget = (name: string): boolean => name.endsWith('.target');

/**
 * The other unit names an [Install] section touches on the host, with the setting that names them:
 * every Alias= and Also= name, and every WantedBy=/RequiredBy=/UpheldBy= name that is not a target.
 */
export function installTouches(options: readonly UnitOption[]): { setting: string; name: string }[] {
  const hooks = installHooks(options);
  return [
    ...hooks.aliases.map((name) => ({ setting: 'Alias', name })),
    ...hooks.also.map((name) => ({ setting: 'Also', name })),
    ...hooks.hookedInto.filter((n) => !isTarget(n)).map((name) => ({ setting: 'WantedBy/RequiredBy', name })),
  ];
}

/**
 * The submit-time rule for a new unit: its name is not reserved, and its [Install] section neither
 * aliases a reserved name nor hooks into one (Alias=, Also=, WantedBy=, RequiredBy=, UpheldBy=;
 * targets excepted). Returns one line, or null.
 */
export function hostCollisionProblem(name: string, options: readonly UnitOption[]): string | null {
  const own = reservedUnitProblem(name);
  if (own !== null) return own;
  for (const { setting, name: other } of installTouches(options)) {
    const invalid = validateUnitName(other);
    if (invalid !== null) return `[Install] ${setting}=${other} of ${name}: ${invalid}`;
    if (reservedUnitProblem(other) !== null) {
      return `[Install] ${setting}=${other} of ${name} names a unit reserved for the host's own units`;
    }
  }
  return null;
}
