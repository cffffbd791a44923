// The release artefacts of `npm run package` (scripts/package/build.mjs), built once into out/ and
// inspected with the distributions' own tools: dpkg-deb for the .deb, rpm for the .rpm (installed
// into a scratch root), tar for the self-contained executables (run with no node on PATH).
// Installing the .deb with dpkg on a real systemd machine is the e2e test test/e2e/install-deb.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const OUT = join(ROOT, 'out');
const DEB = join(OUT, `fleet-ts_${VERSION}_all.deb`);
const RPM = join(OUT, `fleet-ts-${VERSION}-1.noarch.rpm`);
const TARBALL = join(OUT, `fleet-ts-${VERSION}-linux-${process.arch}.tar.gz`);

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });
let scratch: string;

beforeAll(() => {
  // Needs dpkg-deb and rpmbuild (Debian packages dpkg and rpm, scripts/install-deps.sh).
  execFileSync(process.execPath, [join(ROOT, 'scripts/package/build.mjs')], { cwd: ROOT, stdio: 'ignore' });
  scratch = mkdtempSync(join(tmpdir(), 'fleet-ts-packages-'));
}, 600_000);
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const PAYLOAD = [
  '/etc/fleet/fleet.conf',
  '/usr/bin/fleetctl',
  '/usr/bin/fleetd',
  '/usr/share/man/man1/fleetctl.1.gz',
  '/usr/share/man/man8/fleetd.8.gz',
];

describe('.deb', () => {
  it('installs the programs, units, conffile, license and man pages, and depends on nodejs >= 20', () => {
    const list = sh('dpkg-deb', ['-c', DEB])
      .split('\n')
      .filter((l) => l.startsWith('-'))
      .map((l) => l.slice(l.indexOf('./') + 1))
      .sort();
    expect(list).toEqual(
      [
        ...PAYLOAD,
        '/lib/systemd/system/fleet.socket',
        '/lib/systemd/system/fleetd.service',
        '/usr/share/doc/fleet-ts/copyright',
      ].sort(),
    );
    expect(sh('dpkg-deb', ['-f', DEB, 'Package', 'Version', 'Architecture', 'Depends'])).toBe(
      `Package: fleet-ts\nVersion: ${VERSION}\nArchitecture: all\nDepends: nodejs (>= 20), systemd\n`,
    );
    const control = join(scratch, 'DEBIAN');
    sh('dpkg-deb', ['-e', DEB, control]);
    expect(readFileSync(join(control, 'conffiles'), 'utf8')).toBe('/etc/fleet/fleet.conf\n');
    expect(readFileSync(join(control, 'postinst'), 'utf8')).toMatch(/systemctl daemon-reload/);
    expect(readFileSync(join(control, 'prerm'), 'utf8')).toMatch(/"\$1" = remove .*\n.*disable --now fleetd/);
  });

  it('its programs run from the extracted tree', () => {
    const tree = join(scratch, 'deb');
    sh('dpkg-deb', ['-x', DEB, tree]);
    expect(sh(join(tree, 'usr/bin/fleetd'), ['--version'])).toBe(`fleetd version ${VERSION}\n`);
    expect(sh(join(tree, 'usr/bin/fleetctl'), ['version'])).toBe(`fleetctl version ${VERSION}\n`);
    const man = gunzipSync(readFileSync(join(tree, 'usr/share/man/man1/fleetctl.1.gz'))).toString();
    expect(man).toMatch(/^\.TH FLEETCTL 1 /);
    expect(man).toMatch(/fleetctl start - Instruct systemd to start/);
  });
});

describe('.rpm', () => {
  it('lists the files, the noreplace config, the scriptlets and Requires nodejs >= 1:20', () => {
    expect(sh('rpm', ['-qpl', RPM]).trim().split('\n').sort()).toEqual(
      [
        ...PAYLOAD,
        '/etc/fleet',
        '/usr/lib/systemd/system/fleet.socket',
        '/usr/lib/systemd/system/fleetd.service',
        '/usr/share/licenses/fleet-ts/LICENSE',
      ].sort(),
    );
    expect(sh('rpm', ['-qpc', RPM])).toBe('/etc/fleet/fleet.conf\n');
    const requires = sh('rpm', ['-qpR', RPM]).split('\n');
    expect(requires).toEqual(expect.arrayContaining(['nodejs >= 1:20', 'systemd']));
    const scripts = sh('rpm', ['-qp', '--scripts', RPM]);
    expect(scripts).toMatch(/postinstall scriptlet[\s\S]*systemctl daemon-reload/);
    expect(scripts).toMatch(
      /preuninstall scriptlet[\s\S]*"\$1" -eq 0[\s\S]*disable --now fleetd\.service fleet\.socket/,
    );
    // %config(noreplace): flag 'n' in the file's state/flags dump.
    expect(sh('rpm', ['-qp', '--qf', '[%{FILENAMES} %{FILEFLAGS:fflags}\n]', RPM])).toMatch(
      /^\/etc\/fleet\/fleet\.conf cn$/m,
    );
  });

  it('installs into a scratch root whose fleetd --version runs', () => {
    const root = join(scratch, 'rpmroot');
    // The scratch root has no /bin/sh for the scriptlets (checked above as text): --noscripts.
    const r = spawnSync(
      'rpm',
      ['--root', root, '--dbpath', '/var/lib/rpm', '--nodeps', '--noscripts', '-i', RPM],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    expect(sh(join(root, 'usr/bin/fleetd'), ['--version'])).toBe(`fleetd version ${VERSION}\n`);
    expect(sh('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '-q', 'fleet-ts'])).toBe(
      `fleet-ts-${VERSION}-1.noarch\n`,
    );
  });
});

describe('self-contained tarball', () => {
  it('runs fleetctl and fleetd with no node on the host (empty environment)', () => {
    const dir = join(scratch, 'sea');
    sh('mkdir', [dir]);
    sh('tar', ['-C', dir, '-xzf', TARBALL]);
    const bin = join(dir, `fleet-ts-${VERSION}-linux-${process.arch}`, 'bin');
    const run = (name: string, args: string[]) =>
      spawnSync(join(bin, name), args, { encoding: 'utf8', env: {} });
    expect(run('fleetctl', ['version']).stdout).toBe(`fleetctl version ${VERSION}\n`);
    expect(run('fleetd', ['--version']).stdout).toBe(`fleetd version ${VERSION}\n`);
    const unknown = run('fleetctl', ['list-machines', '--endpoint', `unix://${join(dir, 'none.sock')}`]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/cannot reach the fleet API/);
  });
});
