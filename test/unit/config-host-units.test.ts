import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveFleetdConfig } from '../../cli/fleetd/config.js';
import { DEFAULT_CONFIG_FILE, FLEETD_CONFIG_KEYS } from '../../cli/fleetd/config-keys.js';

// The files shipped for hosts: packaging/systemd/{fleetd.service,fleet.socket}, packaging/fleet.conf.sample.
const PACKAGING = join(import.meta.dirname, '../../packaging');
const DIR = join(PACKAGING, 'systemd');
const read = (name: string): string =>
  readFileSync(join(name.endsWith('.sample') ? PACKAGING : DIR, name), 'utf8');

describe('fleet.conf.sample', () => {
  const sample = read('fleet.conf.sample');

  it('documents every key fleetd understands', () => {
    const documented = new Set([...sample.matchAll(/^#([a-z_]+)=/gm)].map((m) => m[1]));
    expect([...FLEETD_CONFIG_KEYS].filter((k) => !documented.has(k))).toEqual([]);
    expect([...documented].filter((k) => !FLEETD_CONFIG_KEYS.includes(k as string))).toEqual([]);
  });

  it('with every example line switched on, still gives the defaults and no warnings', () => {
    // The last line of each key shows its default, so uncommenting everything must change nothing.
    const enabled = sample.replace(/^#([a-z_]+=)/gm, '$1');
    const withFile = resolveFleetdConfig({
      argv: [],
      env: {},
      readFile: (p) => (p === DEFAULT_CONFIG_FILE ? enabled : null),
    });
    const without = resolveFleetdConfig({ argv: [], env: {}, readFile: () => null });
    if (withFile.kind !== 'run' || without.kind !== 'run') throw new Error('expected run');
    expect(withFile.config).toEqual({ ...without.config, configFile: DEFAULT_CONFIG_FILE });
    expect(withFile.warnings).toEqual([]);
  });
});

describe('systemd units', () => {
  it('fleetd.service restarts always, signals fleetd alone on stop, and is socket-aware', () => {
    const unit = read('fleetd.service');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/fleetd$/m);
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^KillMode=mixed$/m);
    expect(unit).toMatch(/^Wants=fleet\.socket$/m);
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  });

  it('fleet.socket listens on /var/run/fleet.sock (0660) for fleetd.service', () => {
    const unit = read('fleet.socket');
    expect(unit).toMatch(/^ListenStream=\/var\/run\/fleet\.sock$/m);
    expect(unit).toMatch(/^SocketMode=0660$/m);
    expect(unit).toMatch(/^#ListenStream=127\.0\.0\.1:54728$/m);
    expect(unit).toMatch(/^Service=fleetd\.service$/m);
  });

  it('systemd-analyze verify finds nothing to complain about', () => {
    // Needs systemd-analyze (Debian package systemd); a missing binary fails this test.
    const dir = mkdtempSync(join(tmpdir(), 'fleet-units-'));
    try {
      copyFileSync(join(DIR, 'fleet.socket'), join(dir, 'fleet.socket'));
      // verify checks that ExecStart's binary exists; the package's /usr/bin/fleetd is not installed here.
      const service = read('fleetd.service').replace('ExecStart=/usr/bin/fleetd', 'ExecStart=/bin/true');
      writeFileSync(join(dir, 'fleetd.service'), service);
      // verify reports problems on stderr and still exits 0, so both streams must be empty.
      const r = spawnSync(
        'systemd-analyze',
        ['verify', '--man=no', join(dir, 'fleetd.service'), join(dir, 'fleet.socket')],
        { encoding: 'utf8' },
      );
      expect(r.error).toBeUndefined();
      expect(`${r.stdout}${r.stderr}`).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
