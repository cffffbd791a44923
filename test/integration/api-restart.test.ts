// fleet-ts extension POST /fleet/v1/units/<name>/restart against a real etcd: bumps the restart
// generation in the job record, answers it; /state carries what the agents applied as restartGeneration.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../../api/listen.js';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import { jobKey, unitStateKey } from '../../registry/keys.js';
import { decodeJob, encodeState } from '../../registry/records.js';
import { createLogger } from '../../units/log.js';
import { unitHash } from '../../units/serialize.js';
import { apiListenConfig } from '../support/api-config.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { http, snapshot, type Target } from './api-helpers.js';

const M1 = '07d9057b44b34f9aa5b45f8c19c375c6';
let etcd: EtcdServer;
let reg: EtcdRegistry;
let server: ApiServer;
let dir: string;
let unix: Target;

beforeAll(async () => {
  etcd = await startEtcd();
  reg = openEtcdRegistry({
    endpoints: [etcd.endpoint],
    keyPrefix: '/_coreos.com/fleet/',
    requestTimeoutMs: 5000,
  });
  dir = mkdtempSync(join(tmpdir(), 'fleet-ts-api-restart-'));
  server = await startApiServer(
    apiListenConfig({ apiSocket: join(dir, 'fleet.sock') }),
    reg,
    createLogger('api-restart-test', { level: 'silent' }),
    { env: {}, version: 'v1.0.0' },
  );
  unix = { socketPath: join(dir, 'fleet.sock') };
});

afterAll(async () => {
  await server?.close();
  await reg?.close();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('POST /units/<name>/restart (fleet-ts extension)', () => {
  it('bumps the generation in the job record once per call and answers it', async () => {
    const options = [{ section: 'Service', name: 'ExecStart', value: '/bin/sleep infinity' }];
    const hash = unitHash(options);
    await reg.createUnit({ name: 'web.service', hash, options, desiredState: 'launched' });
    for (const [path, want] of [
      ['/fleet/v1/units/web.service/restart', 1],
      ['/v1-alpha/units/web.service/restart?alt=json', 2],
    ] as const) {
      const r = await http(unix, 'POST', path);
      expect(r.status).toBe(200);
      expect(r.body).toBe(JSON.stringify({ generation: want }));
    }
    const job = decodeJob(jobKey('web.service'), (await reg.ns.get(jobKey('web.service')).string()) ?? '');
    expect(job).toMatchObject({ name: 'web.service', hash, desiredState: 'launched', restart: 2 });
    // A desired-state change keeps the generation.
    await reg.setDesiredState('web.service', 'loaded');
    expect(JSON.parse((await reg.ns.get(jobKey('web.service')).string()) ?? '{}').restart).toBe(2);

    // What an agent applied shows in /state.
    await reg.ns.put(unitStateKey(M1, 'web.service')).value(
      encodeState({
        hash,
        load: 'loaded',
        active: 'active',
        sub: 'running',
        agentState: 'launched',
        restart: 2,
      }),
    );
    const state = await http(unix, 'GET', '/fleet/v1/state');
    expect(JSON.parse(state.body).states[0]).toMatchObject({ name: 'web.service', restartGeneration: 2 });
  });

  it('unknown unit 404, other methods 405, a bad name 400; nothing written', async () => {
    const before = await snapshot(reg.ns);
    const unknown = await http(unix, 'POST', '/fleet/v1/units/nothere.service/restart');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toBe(JSON.stringify({ error: { code: 404, message: 'unit does not exist' } }));
    expect((await http(unix, 'GET', '/fleet/v1/units/web.service/restart')).status).toBe(405);
    expect((await http(unix, 'POST', '/fleet/v1/units/%2e%2e/restart')).status).toBe(400);
    expect(await snapshot(reg.ns)).toEqual(before);
  });
});
