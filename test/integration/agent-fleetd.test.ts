// fleetd as a process against a real etcd: announces the machine, campaigns for the engine, reloads
// its configuration on SIGHUP without leaving, and on SIGTERM leaves the cluster and exits 0.
// Nothing is scheduled, so the real systemctl driver is never called on this host.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3, Namespace } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_LEADER_KEY, machineObjectKey } from '../../registry/keys.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { connect, PREFIX, waitFor } from './agent-helpers.js';

const FLEETD = new URL('../../cli/fleetd.ts', import.meta.url).pathname;
const PKG = new URL('../../package.json', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(PKG, 'utf8')) as { version: string }).version;
const MACHINE_ID = readFileSync('/etc/machine-id', 'utf8').trim();

let etcd: EtcdServer;
let client: Etcd3;
let ns: Namespace;
let dir: string;
let child: ChildProcess | undefined;

const runFleetd = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['--import', 'tsx', FLEETD, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });

beforeAll(async () => {
  etcd = await startEtcd();
  ({ client, ns } = connect(etcd.endpoint));
  dir = await mkdtemp(join(tmpdir(), 'fleet-ts-fleetd-'));
}, 180_000);

afterAll(async () => {
  if (child?.pid && child.exitCode === null) child.kill('SIGKILL');
  client?.close();
  await etcd?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('fleetd', () => {
  it('--version prints the package version', () => {
    const r = runFleetd(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`fleetd version ${VERSION}\n`);
  });

  it('a positional argument and a bad value are one-line errors with exit 1', () => {
    const r1 = runFleetd(['start']);
    expect(r1.status).toBe(1);
    expect(r1.stderr).toBe('fleetd takes no arguments. Did you mean to invoke fleetctl instead?\n');
    const r2 = runFleetd([], { FLEET_AGENT_TTL: 'abc' });
    expect(r2.status).toBe(1);
    expect(r2.stderr.trim().split('\n')).toHaveLength(1);
    expect(r2.stderr).toMatch(/agent_ttl/);
  });

  it('announces, leads, reloads on SIGHUP without leaving, and leaves on SIGTERM with exit 0', async () => {
    const conf = join(dir, 'fleet.conf');
    await writeFile(conf, 'metadata="role=one"\npublic_ip=10.9.8.7\n');
    child = spawn(process.execPath, ['--import', 'tsx', FLEETD, '--config', conf], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        FLEET_ETCD_SERVERS: etcd.endpoint,
        FLEET_ETCD_KEY_PREFIX: PREFIX,
        FLEET_UNITS_DIRECTORY: join(dir, 'units'),
        // fleetd serves the API on api_socket (default /var/run/fleet.sock): keep it in the temp dir.
        FLEET_API_SOCKET: join(dir, 'fleet.sock'),
        FLEET_AGENT_TTL: '10s',
        FLEET_ENGINE_RECONCILE_INTERVAL: '1',
      },
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((r) => child?.once('exit', (code) => r(code)));
    const machine = async () => JSON.parse((await ns.get(machineObjectKey(MACHINE_ID)).string()) ?? 'null');

    const first = await waitFor('machine announced', machine, 60_000);
    expect(first).toMatchObject({
      id: MACHINE_ID,
      publicIP: '10.9.8.7',
      metadata: { role: 'one' },
      version: VERSION,
    });
    await waitFor(
      'engine leader',
      async () => (await ns.get(ENGINE_LEADER_KEY).string()) === MACHINE_ID,
      60_000,
    );

    await writeFile(conf, 'metadata="role=two"\npublic_ip=10.9.8.7\n');
    child.kill('SIGHUP');
    await waitFor('metadata reloaded', async () => (await machine())?.metadata?.role === 'two', 60_000);
    expect(child.exitCode).toBeNull();

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await ns.get(machineObjectKey(MACHINE_ID)).string()).toBeNull();
    expect(await ns.get(ENGINE_LEADER_KEY).string()).toBeNull();
    expect(stderr).not.toMatch(/"level":(50|60)/); // no error or fatal lines
  }, 180_000);
});
