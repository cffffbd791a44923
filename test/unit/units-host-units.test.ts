import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostUnitGuard, hostRefusal } from '../../agent/host-guard.js';
import { assertSubmittable, InvalidNameError } from '../../registry/names-guard.js';
import { globMatch } from '../../units/glob.js';
import {
  hostCollisionProblem,
  installHooks,
  RESERVED_UNIT_PATTERNS,
  reservedUnitProblem,
} from '../../units/host-units.js';
import { createLogger } from '../../units/log.js';
import { parseUnitFile } from '../../units/parse.js';

const opts = (text: string) => parseUnitFile(text);
const unit = (install = '') =>
  `[Service]\nExecStart=/bin/true\n${install ? `\n[Install]\n${install}\n` : ''}`;

describe('reserved unit names (submit time)', () => {
  it('the compiled check agrees with Go path.Match over every pattern, for names around each one', () => {
    const names = new Set<string>(['a.service', 'x', '', 'ssh', 'sshd', 'fleet.service.bak', 'a/b.mount']);
    for (const p of RESERVED_UNIT_PATTERNS) {
      for (const fill of ['', 'x', 'tty1', 'a-b', 'a/b', 'ä']) {
        const n = p.replaceAll('*', fill);
        for (const v of [n, `x${n}`, `${n}x`, n.slice(1), n.slice(0, -1), n.toUpperCase()]) names.add(v);
      }
    }
    for (const n of names) {
      const glob = RESERVED_UNIT_PATTERNS.some((p) => globMatch(p, n));
      expect({ n, reserved: reservedUnitProblem(n) !== null }).toEqual({ n, reserved: glob });
    }
  });

  it.each([
    'sshd.service',
    'ssh.service',
    'ssh.socket',
    '-.mount',
    'systemd-journald.service',
    'systemd-logind.service',
    'dbus.service',
    'getty@tty1.service',
    'serial-getty@ttyS0.service',
    'user@0.service',
    'fleetd.service',
    'fleet.socket',
    'etcd.service',
    'usr.mount',
    'proc-sys-fs-binfmt_misc.mount',
    'sshd@.service',
    'emergency.service',
  ])('%s is refused with one line naming it', (name) => {
    const problem = reservedUnitProblem(name);
    expect(problem).toContain(JSON.stringify(name));
    expect(problem).not.toContain('\n');
    expect(() => assertSubmittable(name, opts(unit()))).toThrow(InvalidNameError);
  });

  it.each(['hello.service', 'web@1.service', 'web@.service', 'myssh.service', 'mnt-data.mount'])(
    '%s is accepted',
    (name) => {
      expect(reservedUnitProblem(name)).toBeNull();
      expect(() => assertSubmittable(name, opts(unit()))).not.toThrow();
    },
  );

  it('a template and its instances are refused together', () => {
    expect(reservedUnitProblem('ssh@.service')).not.toBeNull();
    expect(reservedUnitProblem('ssh@x.service')).not.toBeNull();
  });
});

describe('[Install] sections (submit time)', () => {
  it('reads Alias=, Also=, WantedBy=, RequiredBy= and UpheldBy= lists', () => {
    const hooks = installHooks(
      opts(
        unit(
          'Alias=a.service b.service\nAlso=c.service\nWantedBy=multi-user.target d.service\nRequiredBy=e.service\nUpheldBy=f.service',
        ),
      ),
    );
    expect(hooks).toEqual({
      aliases: ['a.service', 'b.service'],
      also: ['c.service'],
      hookedInto: ['multi-user.target', 'd.service', 'e.service', 'f.service'],
    });
  });

  it('WantedBy= a target is fleet usage and accepted', () => {
    expect(hostCollisionProblem('web.service', opts(unit('WantedBy=multi-user.target')))).toBeNull();
  });

  it.each([
    ['Alias=sshd.service', 'Alias=sshd.service'],
    ['Also=dbus.service', 'Also=dbus.service'],
    ['RequiredBy=systemd-journald.service', 'WantedBy/RequiredBy=systemd-journald.service'],
    ['WantedBy=multi-user.target getty@tty1.service', 'WantedBy/RequiredBy=getty@tty1.service'],
  ])('%s is refused', (line, where) => {
    expect(hostCollisionProblem('web.service', opts(unit(line)))).toBe(
      `[Install] ${where} of web.service names a unit reserved for the host's own units`,
    );
  });

  it('an Alias= that is no valid unit name is refused', () => {
    expect(hostCollisionProblem('web.service', opts(unit('Alias=../x.service')))).toMatch(
      /^\[Install\] Alias=\.\.\/x\.service of web\.service: /,
    );
  });
});

describe('agent: units the host already has (link time)', () => {
  let root: string;
  let g: { systemdDir: string; unitsDir: string; hostDirs: string[] };
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'fleet-ts-hostguard-'));
    g = {
      systemdDir: join(root, 'run/systemd/system'),
      unitsDir: join(root, 'run/fleet/units'),
      hostDirs: [
        join(root, 'etc/systemd/system'),
        join(root, 'lib/systemd/system'),
        join(root, 'run/systemd/system'),
      ],
    };
    for (const d of [...g.hostDirs, g.unitsDir]) await mkdir(d, { recursive: true });
    await writeFile(join(root, 'lib/systemd/system/nginx.service'), unit());
    await writeFile(join(root, 'lib/systemd/system/worker@.service'), unit());
    await symlink('/dev/null', join(root, 'etc/systemd/system/masked.service'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('refuses a name the host has in any unit directory (a masked unit too)', async () => {
    expect(await hostRefusal('nginx.service', unit(), g)).toEqual({
      code: 'host-unit',
      reason: `the host has its own nginx.service (${join(root, 'lib/systemd/system/nginx.service')}); linking nginx.service would shadow it`,
    });
    expect((await hostRefusal('masked.service', unit(), g))?.code).toBe('host-unit');
  });

  it('refuses an instance of a template the host has', async () => {
    expect((await hostRefusal('worker@1.service', unit(), g))?.reason).toContain('own worker@.service');
  });

  it('refuses templates, reserved names and [Install] hooks into host units', async () => {
    expect((await hostRefusal('web@.service', unit(), g))?.code).toBe('template');
    expect((await hostRefusal('sshd.service', unit(), g))?.code).toBe('reserved');
    expect(await hostRefusal('web.service', unit('Alias=nginx.service'), g)).toEqual({
      code: 'install-hook',
      reason: `[Install] Alias=nginx.service names the host's own unit (${join(root, 'lib/systemd/system/nginx.service')})`,
    });
    expect((await hostRefusal('web.service', unit('RequiredBy=nginx.service'), g))?.code).toBe(
      'install-hook',
    );
  });

  it("accepts fleet's own links and alias links, and units the host does not have", async () => {
    await writeFile(join(g.unitsDir, 'web.service'), unit());
    await symlink(join(g.unitsDir, 'web.service'), join(g.systemdDir, 'web.service'));
    await symlink(join(g.systemdDir, 'web.service'), join(g.systemdDir, 'www.service'));
    expect(
      await hostRefusal('web.service', unit('Alias=www.service\nWantedBy=multi-user.target'), g),
    ).toBeNull();
    expect(await hostRefusal('other.service', unit('RequiredBy=web.service'), g)).toBeNull();
  });

  it("a file of the admin's own in the runtime directory is the host's", async () => {
    await writeFile(join(g.systemdDir, 'admin.service'), unit());
    expect((await hostRefusal('admin.service', unit(), g))?.code).toBe('host-unit');
  });

  it('the guard publishes refused units as LOAD refused / ACTIVE failed / SUB code and forgets unscheduled ones', async () => {
    const guard = new HostUnitGuard({
      ...g,
      log: createLogger('test', { level: 'silent' }),
      machineID: 'm1',
    });
    expect(await guard.admit('nginx.service', 'h1', unit())).toBe(false);
    expect(await guard.admit('web.service', 'h2', unit())).toBe(true);
    expect([...guard.refusedStates()]).toEqual([
      [
        'nginx.service',
        { hash: 'h1', load: 'refused', active: 'failed', sub: 'host-unit', agentState: 'loaded' },
      ],
    ]);
    guard.retain(new Set(['web.service']));
    expect(guard.refusedStates().size).toBe(0);
  });

  it('sees a host unit that appeared since the last reconcile turn (directories are listed per turn)', async () => {
    const guard = new HostUnitGuard({
      ...g,
      log: createLogger('test', { level: 'silent' }),
      machineID: 'm1',
    });
    guard.retain(new Set());
    expect(await guard.admit('web.service', 'h1', unit())).toBe(true);
    await writeFile(join(root, 'etc/systemd/system/api.service'), unit());
    guard.retain(new Set(['web.service']));
    expect(await guard.admit('api.service', 'h2', unit())).toBe(false);
  });
});
