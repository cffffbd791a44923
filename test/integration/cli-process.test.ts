// The installed entry point as a child process: real exit codes and streams.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { unitDir } from './cli-helpers.js';

const ROOT = new URL('../../', import.meta.url).pathname;
/** The one version every program prints: package.json's. */
const VERSION = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string }).version;
let etcd: EtcdServer;
let dir: string;

function fleetctl(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${ROOT}cli/fleetctl.ts`, ...args], {
    // tsx resolves from the working directory; unit files are given by absolute path.
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  etcd = await startEtcd();
  dir = unitDir({ 'a.service': '[Service]\nExecStart=/bin/sleep 1\n' });
});
afterAll(async () => {
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fleetctl as a process', () => {
  it('version exits 0', () => {
    expect(fleetctl(['version'])).toEqual({ code: 0, stdout: `fleetctl version ${VERSION}\n`, stderr: '' });
    expect(fleetctl(['--version']).code).toBe(0);
  });

  it('FLEETCTL_ENDPOINT and FLEETCTL_DRIVER select etcd; submit and list-unit-files work', () => {
    const env = { FLEETCTL_ENDPOINT: etcd.endpoint, FLEETCTL_DRIVER: 'etcd' };
    expect(fleetctl(['submit', `${dir}/a.service`], env)).toEqual({
      code: 0,
      stdout: 'Unit a.service inactive\n',
      stderr: '',
    });
    expect(fleetctl(['list-unit-files', '--no-legend', '--fields=unit,dstate'], env).stdout).toBe(
      'a.service\tinactive\n',
    );
    // A flag wins over its environment variable.
    const r = fleetctl(['--endpoint', 'http://127.0.0.1:1', '--request-timeout', '0.5', 'list-units'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: cannot reach etcd at http:\/\/127\.0\.0\.1:1: /);
  });

  it('unknown command and bad flag exit 1 with one line on stderr', () => {
    const r = fleetctl(['bogus-cmd']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(fleetctl(['list-units', '--nope']).code).toBe(1);
  });

  it('the default API driver without a fleetd socket: one line naming the endpoint, exit 1', () => {
    const r = fleetctl(['list-units']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error: cannot reach the fleet API at unix:\/\/\/var\/run\/fleet\.sock: .+\n$/);
  });

  it('verify exits 2; no units given exits 1 (fleet exited 0)', () => {
    expect(fleetctl(['verify']).code).toBe(2);
    expect(fleetctl(['start'], { FLEETCTL_DRIVER: 'etcd', FLEETCTL_ENDPOINT: etcd.endpoint })).toEqual({
      code: 1,
      stdout: '',
      stderr: 'No units given\n',
    });
  });
});

// The compiled output is what `npm install -g`/the bin entries run. scripts/test.sh builds before
// testing, so a missing dist is a failure here, not a reason to skip.
describe('the compiled fleetctl (dist/)', () => {
  const DIST = `${ROOT}dist/cli/fleetctl.js`;
  const compiled = (args: string[], env: Record<string, string> = {}) => {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first`);
    const r = spawnSync(process.execPath, [DIST, ...args], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
      timeout: 30_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('--version', () => {
    expect(compiled(['--version'])).toEqual({ code: 0, stdout: `fleetctl version ${VERSION}\n`, stderr: '' });
  });

  it('submits and lists units against a real etcd', () => {
    const env = { FLEETCTL_ENDPOINT: etcd.endpoint, FLEETCTL_DRIVER: 'etcd' };
    expect(compiled(['submit', 'a.service'], env).code).toBe(0);
    const r = compiled(['list-unit-files', '--no-legend', '--fields=unit,dstate'], env);
    expect(r).toEqual({ code: 0, stdout: 'a.service\tinactive\n', stderr: '' });
    const missing = compiled(['destroy', 'nothere.service'], env);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: 'Units not found in registry\n' });
  });
});
