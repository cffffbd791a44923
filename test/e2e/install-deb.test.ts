// The README's "Install on a host" on real systemd machines: the .deb installed with
// scripts/install-host.sh over SSH, a cluster formed, the demo's apache example run through the installed
// fleetctl, then --uninstall. How the machines are made to look like normal hosts: docs/testing.md.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APACHE_UNIT } from '../../scripts/demo/steps.js';
import { PROJECT, until } from '../support/fleet-e2e.js';
import { type Cluster, createCluster } from '../support/nspawn.js';

const NAMES = ['inst1', 'inst2'];
const VERSION = (JSON.parse(readFileSync(join(PROJECT, 'package.json'), 'utf8')) as { version: string })
  .version;
const DEB = `fleet-ts_${VERSION}_all.deb`;
let cluster: Cluster | undefined;

function c(): Cluster {
  if (!cluster) throw new Error('cluster did not boot');
  return cluster;
}

const PREPARE = `set -e
umount /etc/fleet
mkdir -p /var/lib/usr-overlay/upper /var/lib/usr-overlay/work
mount -t overlay overlay -o lowerdir=/usr,upperdir=/var/lib/usr-overlay/upper,workdir=/var/lib/usr-overlay/work /usr
`;

async function sshOk(name: string, command: string, timeoutMs = 120_000): Promise<string> {
  const r = await c().ssh(name, command, { timeoutMs });
  if (r.code !== 0)
    throw new Error(`${name}: ${command}: exit ${r.code}: ${r.stderr.trim()} ${r.stdout.trim()}`);
  return r.stdout;
}

beforeAll(async () => {
  execFileSync(process.execPath, [join(PROJECT, 'scripts/package/build.mjs'), '--only', 'deb'], {
    cwd: PROJECT,
    stdio: 'ignore',
  });
  cluster = await createCluster({
    machines: NAMES.map((name) => ({ name })),
    projectDir: PROJECT,
    startFleetd: false,
  });
  for (const name of NAMES) {
    await c().execOk(name, ['sh', '-c', PREPARE]);
    // The machine's root as the host sees it: copy in the dpkg database, the package and the script.
    const root = `/proc/${c().machine(name).leaderPid}/root`;
    execFileSync('cp', ['-a', '/var/lib/dpkg', `${root}/var/lib/`]);
    // The host's ownership overrides name groups (ssl-cert) that the machine's fresh /etc lacks.
    writeFileSync(`${root}/var/lib/dpkg/statoverride`, '');
    copyFileSync(join(PROJECT, 'out', DEB), `${root}/root/${DEB}`);
    copyFileSync(join(PROJECT, 'scripts/install-host.sh'), `${root}/root/install-host.sh`);
  }
}, 900_000);

afterAll(async () => {
  await cluster?.teardown();
});

describe('install from the .deb with scripts/install-host.sh', () => {
  it('installs, configures, starts fleetd from /usr/bin and prints list-machines', async () => {
    for (const name of NAMES) {
      const m = c().machine(name);
      const out = await sshOk(
        name,
        `cd /root && bash install-host.sh --package ./${DEB} --etcd-endpoints ${c().etcdEndpoint} --metadata role=worker --public-ip ${m.ip}`,
      );
      expect(out).toContain(`install-host: dpkg -i ./${DEB}`);
      expect(out).toContain('install-host: systemctl enable --now fleet.socket fleetd.service');
      expect(out).toMatch(
        new RegExp(
          `^MACHINE\\s+IP\\s+METADATA\\n(.*\\n)*${m.machineID.slice(0, 8)}\\.\\.\\.\\s+${m.ip.replaceAll('.', '\\.')}\\s+role=worker$`,
          'm',
        ),
      );
      expect(await sshOk(name, 'dpkg -s fleet-ts | grep -E "^(Status|Version):"')).toBe(
        `Status: install ok installed\nVersion: ${VERSION}\n`,
      );
      expect(await sshOk(name, 'systemctl is-active fleet.socket fleetd.service')).toBe('active\nactive\n');
      // fleetd runs the packaged file, not the checkout at /opt/fleet-ts.
      const cmdline = await sshOk(
        name,
        'tr "\\0" " " < /proc/$(systemctl show -p MainPID --value fleetd)/cmdline',
      );
      expect(cmdline).toMatch(/^node \/usr\/bin\/fleetd $/);
      expect(await sshOk(name, 'grep -c "^etcd_servers=" /etc/fleet/fleet.conf')).toBe('1\n');
      expect(await sshOk(name, 'fleetd --version')).toBe(`fleetd version ${VERSION}\n`);
    }
    const machines = await sshOk(NAMES[0] as string, 'fleetctl list-machines --no-legend');
    expect(machines.trim().split('\n')).toHaveLength(NAMES.length);
  }, 600_000);

  it("runs the demo's apache example through the installed fleetctl", async () => {
    const first = NAMES[0] as string;
    await c().execOk(first, ['sh', '-c', 'cat > /root/apache@.service'], { input: APACHE_UNIT });
    await sshOk(
      first,
      'cd /root && fleetctl submit apache@.service && fleetctl start apache@8081.service apache@8082.service',
    );
    const rows = await until('both apache instances active', 120_000, async () => {
      const out = await sshOk(first, 'fleetctl list-units --no-legend --fields=unit,active,machine --full');
      const lines = out
        .trim()
        .split('\n')
        .filter((l) => /\tactive\t/.test(l));
      return lines.length === 2 ? lines : undefined;
    });
    const ips = rows.map((l) => (l.split('\t')[2] ?? '').split('/')[1]);
    expect(new Set(ips).size).toBe(2); // Conflicts=apache@*.service: one per machine
    for (const port of [8081, 8082]) {
      const row = rows.find((l) => l.startsWith(`apache@${port}.service`)) ?? '';
      const ip = (row.split('\t')[2] ?? '').split('/')[1] ?? '';
      const name = [...c().machines.values()].find((m) => m.ip === ip)?.name;
      const body = await until(`apache@${port} answers`, 60_000, async () => {
        try {
          return await (await fetch(`http://${ip}:${port}/`)).text();
        } catch {
          return undefined;
        }
      });
      expect(body).toBe(`hello from ${name} (apache@${port})\n`);
    }
  }, 300_000);

  it('--uninstall stops fleetd, leaves the cluster and purges the package', async () => {
    const [first, second] = NAMES as [string, string];
    const out = await sshOk(second, 'bash /root/install-host.sh --uninstall');
    expect(out).toContain('install-host: dpkg --purge fleet-ts');
    const r = await c().ssh(
      second,
      'dpkg -s fleet-ts | grep "^Status:"; ls /usr/bin/fleetd /etc/fleet/fleet.conf',
    );
    expect(r.stdout).not.toContain('install ok installed');
    expect(r.stderr).toMatch(/cannot access '\/usr\/bin\/fleetd'/);
    expect(r.stderr).toMatch(/cannot access '\/etc\/fleet\/fleet.conf'/);
    await until('the uninstalled machine left the cluster', 120_000, async () =>
      (await sshOk(first, 'fleetctl list-machines --no-legend')).trim().split('\n').length === 1
        ? true
        : undefined,
    );
  }, 300_000);
});
