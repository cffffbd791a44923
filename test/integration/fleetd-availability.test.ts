// fleetd as a process against a real etcd, issue 13: SIGTERM with etcd unreachable still exits 0 at
// once; a second fleetd with a live machine's ID is refused (error naming the ID and the holder's IP)
// and takes over only once the holder is gone; a SIGKILLed fleetd restarted on the same host resumes
// its own registration (same lease: the machine never disappears from the registry).
// Nothing is scheduled, so the real systemctl driver is never called on this host.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3, Namespace } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { machineObjectKey } from '../../registry/keys.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { connect, PREFIX, waitFor } from './agent-helpers.js';

const FLEETD = new URL('../../cli/fleetd.ts', import.meta.url).pathname;
const MACHINE_ID = readFileSync('/etc/machine-id', 'utf8').trim();

let etcd: EtcdServer;
let client: Etcd3;
let ns: Namespace;
let dir: string;
const children: ChildProcess[] = [];

interface Fleetd {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

/** One fleetd; `home` holds its units directory (and so its registration file) and API socket. */
function fleetd(home: string, publicIP: string, agentTtl = '6s'): Fleetd {
  mkdirSync(join(dir, home), { recursive: true });
  const proc = spawn(process.execPath, ['--import', 'tsx', FLEETD], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      FLEET_ETCD_SERVERS: etcd.endpoint,
      FLEET_ETCD_KEY_PREFIX: PREFIX,
      FLEET_UNITS_DIRECTORY: join(dir, home, 'units'),
      FLEET_API_SOCKET: join(dir, home, 'fleet.sock'),
      FLEET_PUBLIC_IP: publicIP,
      FLEET_AGENT_TTL: agentTtl,
      FLEET_ENGINE_RECONCILE_INTERVAL: '1',
      FLEET_LOG_LEVEL: 'info',
    },
  });
  children.push(proc);
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, exited, stderr: () => err };
}

const registered = async (): Promise<{ ip: string; lease: string } | null> => {
  const kv = (await ns.get(machineObjectKey(MACHINE_ID)).exec()).kvs[0];
  if (!kv) return null;
  return { ip: JSON.parse(kv.value.toString()).publicIP, lease: String(kv.lease) };
};

beforeAll(async () => {
  etcd = await startEtcd();
  ({ client, ns } = connect(etcd.endpoint));
  dir = await mkdtemp(join(tmpdir(), 'fleet-ts-fleetd-avail-'));
}, 30_000);

afterEach(async () => {
  etcd.resume();
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    }
  }
  await client.delete().all();
});

afterAll(async () => {
  client?.close();
  await etcd?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('fleetd and etcd trouble', () => {
  it('SIGTERM with etcd unreachable exits 0 without waiting for etcd', async () => {
    const f = fleetd('term', '10.1.1.1');
    await waitFor('announced', registered, 30_000).catch((err) => {
      throw new Error(`${err.message}\n${f.stderr().slice(-3000)}`);
    });
    etcd.pause();
    const t0 = Date.now();
    f.proc.kill('SIGTERM');
    expect(await f.exited).toBe(0);
    console.log(`SIGTERM with etcd paused: fleetd exited 0 after ${Date.now() - t0} ms`);
    expect(f.stderr()).toMatch(/going on without it|the lease will expire/);
  }, 60_000);

  it('a second fleetd with a live machine ID is refused, serves nothing, and takes over once the owner left', async () => {
    const owner = fleetd('owner', '10.1.1.1');
    const first = await waitFor('owner announced', registered, 30_000);
    expect(first?.ip).toBe('10.1.1.1');
    const intruder = fleetd('intruder', '10.2.2.2');
    await waitFor(
      'refusal logged',
      async () => /registered by another live fleetd \(public IP 10\.1\.1\.1\)/.test(intruder.stderr()),
      30_000,
    );
    const line =
      intruder
        .stderr()
        .split('\n')
        .find((l) => l.includes('registered by another live fleetd')) ?? '';
    expect(line).toContain(MACHINE_ID);
    expect(line).toContain('"level":50');
    // The owner's registration is untouched and the intruder does not campaign for the engine.
    expect(await registered()).toEqual(first as NonNullable<typeof first>);
    expect(intruder.stderr()).not.toMatch(/elected engine leader/);

    owner.proc.kill('SIGTERM');
    expect(await owner.exited).toBe(0);
    const taken = await waitFor(
      'intruder registered after the owner left',
      async () => ((await registered())?.ip === '10.2.2.2' ? registered() : null),
      90_000,
    );
    expect(taken?.ip).toBe('10.2.2.2');
  }, 150_000);

  it('a SIGKILLed fleetd restarted on the same host resumes its registration: the machine never vanishes', async () => {
    // agent_ttl 30 s: starting node + tsx takes seconds on a loaded test machine.
    const first = fleetd('crash', '10.3.3.3', '30s');
    const before = await waitFor('announced', registered, 30_000);
    const deletes: string[] = [];
    const watcher = await ns.watch().key(machineObjectKey(MACHINE_ID)).create();
    watcher.on('delete', (kv) => deletes.push(kv.key.toString()));
    try {
      first.proc.kill('SIGKILL');
      await first.exited;
      const t0 = Date.now();
      const second = fleetd('crash', '10.3.3.3', '30s');
      await waitFor(
        'resumed',
        async () => /resuming the lease of the previous fleetd/.test(second.stderr()),
        30_000,
      );
      await waitFor('announced again', async () => /machine announced/.test(second.stderr()), 30_000);
      console.log(`SIGKILL + restart: registration resumed ${Date.now() - t0} ms after the restart`);
      // Past the moment the old process' last keepalive would have run out: the new one keeps it.
      await new Promise((r) => setTimeout(r, 35_000));
      expect(await registered()).toEqual(before);
      expect(deletes).toEqual([]);
    } finally {
      await watcher.cancel();
    }
  }, 150_000);
});
