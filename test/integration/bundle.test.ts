// The single-file bundles (scripts/package/bundle.mjs), copied where no node_modules can be found and
// under the extensionless names the packages install, run against a real etcd: fleetd joins the
// cluster, fleetctl sees it and submits a unit, fleetd leaves on SIGTERM.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../../scripts/package/bundle.mjs';
import { type EtcdServer, startEtcd } from '../support/etcd.js';

const PKG = new URL('../../package.json', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(PKG, 'utf8')) as { version: string }).version;
const PREFIX = '/fleet-ts-bundle/';

let etcd: EtcdServer;
let dir: string;
let fleetd: ChildProcess | undefined;

const run = (program: string, args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(join(dir, 'bin', program), args, {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-ts-bundle-'));
  const [ctl, d] = await bundle(join(dir, 'build'));
  spawnSync('mkdir', [join(dir, 'bin')]);
  copyFileSync(ctl as string, join(dir, 'bin/fleetctl'));
  copyFileSync(d as string, join(dir, 'bin/fleetd'));
  spawnSync('chmod', ['755', join(dir, 'bin/fleetctl'), join(dir, 'bin/fleetd')]);
  rmSync(join(dir, 'build'), { recursive: true });
  etcd = await startEtcd();
}, 120_000);

afterAll(async () => {
  if (fleetd?.pid && fleetd.exitCode === null) fleetd.kill('SIGKILL');
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('single-file bundles', () => {
  it('print the package version', () => {
    expect(run('fleetctl', ['version'])).toEqual({
      code: 0,
      stdout: `fleetctl version ${VERSION}\n`,
      stderr: '',
    });
    expect(run('fleetd', ['--version'])).toEqual({
      code: 0,
      stdout: `fleetd version ${VERSION}\n`,
      stderr: '',
    });
  });

  it('fleetd joins the cluster, fleetctl lists it and submits a unit, fleetd leaves on SIGTERM', async () => {
    const ctlEnv = {
      FLEETCTL_DRIVER: 'etcd',
      FLEETCTL_ENDPOINT: etcd.endpoint,
      FLEETCTL_ETCD_KEY_PREFIX: PREFIX,
    };
    fleetd = spawn(join(dir, 'bin/fleetd'), [], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        FLEET_ETCD_SERVERS: etcd.endpoint,
        FLEET_ETCD_KEY_PREFIX: PREFIX,
        FLEET_UNITS_DIRECTORY: join(dir, 'units'),
        FLEET_API_SOCKET: join(dir, 'fleet.sock'),
        FLEET_PUBLIC_IP: '10.9.8.7',
        FLEET_METADATA: 'bundle=yes',
      },
    });
    let stderr = '';
    fleetd.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((r) => fleetd?.once('exit', (code) => r(code)));

    let machines = '';
    for (let i = 0; i < 100 && !machines.includes('10.9.8.7'); i++) {
      machines = run('fleetctl', ['list-machines', '--no-legend', '--full'], ctlEnv).stdout;
      if (!machines.includes('10.9.8.7')) await sleep(200);
    }
    expect(machines).toMatch(/^[0-9a-f]{32}\t10\.9\.8\.7\tbundle=yes\n$/);

    writeFileSync(join(dir, 'hello.service'), '[Service]\nExecStart=/bin/sleep 1000\n');
    expect(run('fleetctl', ['submit', 'hello.service'], ctlEnv).code).toBe(0);
    expect(run('fleetctl', ['list-unit-files', '--no-legend', '--fields=unit,dstate'], ctlEnv).stdout).toBe(
      'hello.service\tinactive\n',
    );
    // The API socket fleetd opened answers the API driver.
    const api = run(
      'fleetctl',
      ['--endpoint', `unix://${join(dir, 'fleet.sock')}`, 'list-unit-files', '--no-legend', '--fields=unit'],
      {},
    );
    expect(api).toEqual({ code: 0, stdout: 'hello.service\n', stderr: '' });

    fleetd.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).not.toMatch(/"level":(50|60)/);
  }, 90_000);
});
