// fleetctl --driver=api end to end: the real CLI talks to fleetd's API handler on a unix socket,
// which talks to a real etcd with the real engine and agents (in-memory systemd). Outputs must be
// byte-identical to the etcd driver's (and to fleet's, through the shared golden files).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLocalFile } from '../../cli/fleetctl/io.js';
import { main } from '../../cli/fleetctl/program.js';
import { unitModel } from '../../cli/fleetctl/unit-model.js';
import { type ApiServer, startApiServer } from '../../cli/fleetd/api/listen.js';
import { createLogger } from '../../units/log.js';
import { type EtcdRegistry, openEtcdRegistry } from '../../units/registry/etcd-registry.js';
import { type SimCluster, startSimCluster } from '../support/sim-cluster.js';
import { eventually, type RunResult, unitDir } from './cli-helpers.js';

const HELLO =
  '[Unit]\nDescription=Hello World %i\n\n[Service]\nExecStart=/bin/sh -c "while true; do echo Hello from %i on %H; sleep 5; done"\n\n[X-Fleet]\nConflicts=hello@*.service\n';
const FIXTURES = new URL('../fixtures/cli/', import.meta.url).pathname;
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

let cluster: SimCluster;
let reg: EtcdRegistry;
let server: ApiServer;
let dir: string;
let sock: string;

function runner(driverArgs: () => string[]) {
  return async (...args: string[]): Promise<RunResult> => {
    let stdout = '';
    let stderr = '';
    const code = await main(
      [...driverArgs(), ...args],
      {
        stdout: (s) => {
          stdout += s;
        },
        stderr: (s) => {
          stderr += s;
        },
        env: {},
        cwd: dir,
        readLocalFile,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      },
      { model: unitModel, driver: { openEtcd: openEtcdRegistry } },
    );
    return { code, stdout, stderr };
  };
}

const api = runner(() => ['--driver=api', `--endpoint=unix://${sock}`]);
const viaEtcd = runner(() => ['--driver=etcd', `--endpoint=${cluster.endpoint}`]);

beforeAll(async () => {
  cluster = await startSimCluster();
  reg = openEtcdRegistry({
    endpoints: [cluster.endpoint],
    keyPrefix: '/_coreos.com/fleet/',
    requestTimeoutMs: 5000,
  });
  dir = unitDir({
    'hello@.service': HELLO,
    'web.service': '[Unit]\nDescription=web\n\n[Service]\nExecStart=/bin/sleep infinity\n',
  });
  sock = join(mkdtempSync(join(tmpdir(), 'fleet-ts-cli-api-')), 'fleet.sock');
  server = await startApiServer(
    {
      apiSocket: sock,
      apiListen: '',
      apiToken: '',
      apiTlsCert: '',
      apiTlsKey: '',
      apiTlsClientCa: '',
      tokenLimit: 100,
    },
    reg,
    createLogger('cli-api-test', { level: 'silent' }),
    { env: {} },
  );
}, 60_000);

afterAll(async () => {
  await server?.close();
  await reg?.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (sock) rmSync(join(sock, '..'), { recursive: true, force: true });
});

/** The same command through both drivers gives the same bytes. */
async function sameAsEtcd(...args: string[]): Promise<RunResult> {
  const a = await api(...args);
  expect(a).toEqual(await viaEtcd(...args));
  return a;
}

describe('fleetctl --driver=api', () => {
  it('list-machines: fleet’s table, identical to the etcd driver', async () => {
    const r = await sameAsEtcd('list-machines');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(fixture('list-machines.txt'));
    await sameAsEtcd('list-machines', '--full');
  });

  it('submit, start, list, cat, stop, unload, destroy through the API', async () => {
    expect(await api('submit', 'hello@.service')).toEqual({
      code: 0,
      stdout: 'Unit hello@.service inactive\n',
      stderr: '',
    });
    expect((await sameAsEtcd('list-unit-files')).stdout).toBe(fixture('list-unit-files-template.txt'));

    const start = await api('start', 'hello@1.service', 'hello@2.service', 'hello@3.service');
    expect(start.code).toBe(0);
    const lines = start.stdout.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'Unit hello@1.service inactive',
      'Unit hello@2.service inactive',
      'Unit hello@3.service inactive',
    ]);
    expect(lines.slice(3).sort()).toEqual([
      'Unit hello@1.service launched on 07d9057b.../127.0.0.11',
      'Unit hello@2.service launched on 21e51b3c.../127.0.0.12',
      'Unit hello@3.service launched on 6b1bc4a7.../127.0.0.13',
    ]);
    expect((await sameAsEtcd('list-units')).stdout).toBe(fixture('list-units.txt'));
    expect((await sameAsEtcd('list-unit-files')).stdout).toBe(fixture('list-unit-files.txt'));
    expect((await sameAsEtcd('cat', 'hello@1')).stdout).toBe(fixture('cat-hello@1.txt'));
    await sameAsEtcd('list-units', '--output=json', '--fields', 'unit,machine,hash,active');

    expect(await api('stop', 'hello@1.service')).toEqual({
      code: 0,
      stdout: 'Unit hello@1.service loaded on 07d9057b.../127.0.0.11\n',
      stderr: 'Successfully stopped units [hello@1.service].\n',
    });
    expect(await api('unload', 'hello@1')).toEqual({
      code: 0,
      stdout: 'Unit hello@1.service inactive\n',
      stderr: 'Successfully unloaded units [hello@1.service].\n',
    });
    const destroy = await api('destroy', 'hello@1.service', 'hello@2.service');
    expect(destroy.code).toBe(0);
    expect(destroy.stdout).toBe('Destroyed hello@1.service\nDestroyed hello@2.service\n');
    await eventually('hello@2 gone', async () => !(await viaEtcd('list-units')).stdout.includes('hello@2'));
    expect(await api('destroy', 'nothere.service')).toEqual(await viaEtcd('destroy', 'nothere.service'));
  }, 60_000);

  it('--replace through the API: same contents is a no-op, new contents replace an inactive unit', async () => {
    expect((await api('submit', 'web.service')).code).toBe(0);
    const same = await api('submit', '--replace', 'web.service');
    expect(same).toEqual({
      code: 0,
      stdout: 'Found same Unit(web.service) in Registry, nothing to do\n',
      stderr: '',
    });
    writeFileSync(
      join(dir, 'web.service'),
      '[Unit]\nDescription=web v2\n\n[Service]\nExecStart=/bin/sleep infinity\n',
    );
    const replaced = await api('submit', '--replace', 'web.service');
    expect(replaced.code).toBe(0);
    expect((await reg.getUnit('web.service'))?.options).toContainEqual({
      section: 'Unit',
      name: 'Description',
      value: 'web v2',
    });
  });
});

describe('endpoint errors (fleet’s messages), exit 1', () => {
  const withEndpoint = (endpoint: string) => runner(() => ['--driver=api', `--endpoint=${endpoint}`]);

  it('a missing slash after unix:, no scheme, a dead socket', async () => {
    expect(await withEndpoint('unix://var/run/fleet.sock')('list-units')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Unable to initialize client: unable to connect to host "var" with scheme "unix"\n',
    });
    expect(await withEndpoint('/var/run/fleet.sock')('list-units')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Unable to initialize client: URL scheme undefined\n',
    });
    const dead = await withEndpoint(`unix://${join(dir, 'no.sock')}`)('list-machines');
    expect(dead.code).toBe(1);
    expect(dead.stdout).toBe('');
    expect(dead.stderr.trim().split('\n')).toHaveLength(1);
    expect(dead.stderr).toContain(`cannot reach the fleet API at unix://${join(dir, 'no.sock')}`);
  });
});
