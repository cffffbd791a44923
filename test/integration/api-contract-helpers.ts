// Shared fixtures of the API contract tests: fleetd's API server on a unix socket and on 127.0.0.1
// with a bearer token, over a real etcd emptied before each test, and seeds of machines and units.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type ApiServer, startApiServer } from '../../api/listen.js';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import { machineObjectKey, scheduleKey, unitStateKey } from '../../registry/keys.js';
import { encodeMachine, encodeSchedule, encodeState } from '../../registry/records.js';
import { createLogger } from '../../units/log.js';
import { unitHash } from '../../units/serialize.js';
import type { UnitOption } from '../../units/types.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import type { Target } from './api-helpers.js';

export const TOKEN = 'test-token-3f1c-0a9e';
export const M1 = '07d9057b44b34f9aa5b45f8c19c375c6';
export const M2 = '21e51b3c543a44839c2a4e0ec9177954';

let etcd: EtcdServer;
export let reg: EtcdRegistry;
export let server: ApiServer;
export let dir: string;
export let unix: Target;
export let tcp: Target;

/** Starts etcd and the API server for the calling test file and empties the registry before each test. */
export function useApiServer(): void {
  beforeAll(async () => {
    etcd = await startEtcd();
    reg = openEtcdRegistry({
      endpoints: [etcd.endpoint],
      keyPrefix: '/_coreos.com/fleet/',
      requestTimeoutMs: 5000,
    });
    dir = mkdtempSync(join(tmpdir(), 'fleet-ts-api-'));
    server = await startApiServer(
      {
        apiSocket: join(dir, 'fleet.sock'),
        apiListen: '127.0.0.1:0',
        apiToken: TOKEN,
        apiTlsCert: '',
        apiTlsKey: '',
        apiTlsClientCa: '',
        tokenLimit: 100,
      },
      reg,
      createLogger('api-test', { level: 'silent' }),
      { env: {}, version: 'v1.0.0' },
    );
    const tcpAddr = server.addresses.find((a) => a.startsWith('http://')) as string;
    const url = new URL(tcpAddr);
    unix = { socketPath: join(dir, 'fleet.sock') };
    tcp = { host: url.hostname, port: Number(url.port), headers: { Authorization: `Bearer ${TOKEN}` } };
  });

  afterAll(async () => {
    await server?.close();
    await reg?.close();
    await etcd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await reg.ns.delete().all();
  });
}

export const opts = (desc: string): UnitOption[] => [
  { section: 'Unit', name: 'Description', value: desc },
  { section: 'Service', name: 'ExecStart', value: '/bin/sleep infinity' },
];
export const apiOpts = (o: UnitOption[]) => o.map(({ section, name, value }) => ({ section, name, value }));
export const errorBody = (code: number, message: string) => JSON.stringify({ error: { code, message } });

export async function seedMachines(): Promise<void> {
  await reg.ns.put(machineObjectKey(M1)).value(
    encodeMachine({
      id: M1,
      publicIP: '127.0.0.11',
      metadata: { name: 'of1', idx: '1' },
      version: 't',
      disableEngine: false,
    }),
  );
  await reg.ns
    .put(machineObjectKey(M2))
    .value(encodeMachine({ id: M2, publicIP: '', metadata: {}, version: 't', disableEngine: false }));
}

/** A unit placed on M1 whose agent reports it running. */
export async function seedRunning(name: string, desc = 'running'): Promise<string> {
  const o = opts(desc);
  const hash = unitHash(o);
  await reg.createUnit({ name, hash, options: o, desiredState: 'launched' });
  await reg.ns.put(scheduleKey(M1, name)).value(encodeSchedule({ hash, desiredState: 'launched' }));
  await reg.ns
    .put(unitStateKey(M1, name))
    .value(encodeState({ hash, load: 'loaded', active: 'active', sub: 'running', agentState: 'launched' }));
  return hash;
}

/** fleet's option key order: name, section, value. */
export function nsv(o: { section: string; name: string; value: string }) {
  return { name: o.name, section: o.section, value: o.value };
}
