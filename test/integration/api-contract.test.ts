// fleet's API v1 served by fleetd's handler against a real etcd, on a unix socket and on 127.0.0.1
// with a bearer token: every endpoint, status code, error body and JSON shape fleet 1.0 had.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../../api/listen.js';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import { machineObjectKey, scheduleKey, unitStateKey } from '../../registry/keys.js';
import { encodeMachine, encodeSchedule, encodeState } from '../../registry/records.js';
import { encodeRun, runKey } from '../../registry/runs.js';
import { createLogger } from '../../units/log.js';
import type { RunRecord } from '../../units/runs.js';
import { unitHash } from '../../units/serialize.js';
import type { UnitOption } from '../../units/types.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { http, json, type Target } from './api-helpers.js';

const TOKEN = 'test-token-3f1c-0a9e';
const M1 = '07d9057b44b34f9aa5b45f8c19c375c6';
const M2 = '21e51b3c543a44839c2a4e0ec9177954';

let etcd: EtcdServer;
let reg: EtcdRegistry;
let server: ApiServer;
let dir: string;
let unix: Target;
let tcp: Target;

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

const opts = (desc: string): UnitOption[] => [
  { section: 'Unit', name: 'Description', value: desc },
  { section: 'Service', name: 'ExecStart', value: '/bin/sleep infinity' },
];
const apiOpts = (o: UnitOption[]) => o.map(({ section, name, value }) => ({ section, name, value }));
const errorBody = (code: number, message: string) => JSON.stringify({ error: { code, message } });

async function seedMachines(): Promise<void> {
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
async function seedRunning(name: string, desc = 'running'): Promise<string> {
  const o = opts(desc);
  const hash = unitHash(o);
  await reg.createUnit({ name, hash, options: o, desiredState: 'launched' });
  await reg.ns.put(scheduleKey(M1, name)).value(encodeSchedule({ hash, desiredState: 'launched' }));
  await reg.ns
    .put(unitStateKey(M1, name))
    .value(encodeState({ hash, load: 'loaded', active: 'active', sub: 'running', agentState: 'launched' }));
  return hash;
}

describe.each([
  ['unix socket', () => unix],
  ['TCP with bearer token', () => tcp],
])('read endpoints over %s', (_, target) => {
  it('an empty registry gives {} pages, Server header and JSON content type', async () => {
    for (const path of ['/fleet/v1/units', '/fleet/v1/machines', '/fleet/v1/state', '/v1-alpha/units']) {
      const r = await http(target(), 'GET', `${path}?alt=json`);
      expect(r.status).toBe(200);
      expect(r.body).toBe('{}');
      expect(r.headers.server).toBe('fleetd/v1.0.0');
      expect(r.headers['content-type']).toBe('application/json');
    }
  });

  it('units, machines and states in fleet’s exact JSON (alphabetical keys, empty fields omitted)', async () => {
    await seedMachines();
    const hash = await seedRunning('web.service', 'web');
    const tmpl = [...opts('tmpl %i'), { section: 'X-Fleet', name: 'Conflicts', value: 'hello@*.service' }];
    await reg.createUnit({
      name: 'hello@.service',
      hash: unitHash(tmpl),
      options: tmpl,
      desiredState: 'inactive',
    });
    const glob = [...opts('global'), { section: 'X-Fleet', name: 'Global', value: 'true' }];
    await reg.createUnit({
      name: 'glob.service',
      hash: unitHash(glob),
      options: glob,
      desiredState: 'launched',
    });

    const units = await http(target(), 'GET', '/fleet/v1/units?alt=json');
    expect(units.status).toBe(200);
    expect(units.body).toBe(
      JSON.stringify({
        units: [
          {
            currentState: 'inactive',
            desiredState: 'launched',
            name: 'glob.service',
            options: apiOpts(glob).map(nsv),
          },
          {
            currentState: 'inactive',
            desiredState: 'inactive',
            name: 'hello@.service',
            options: apiOpts(tmpl).map(nsv),
          },
          {
            currentState: 'launched',
            desiredState: 'launched',
            machineID: M1,
            name: 'web.service',
            options: apiOpts(opts('web')).map(nsv),
          },
        ],
      }),
    );
    const one = await http(target(), 'GET', '/fleet/v1/units/web.service?alt=json');
    expect(one.status).toBe(200);
    expect(one.body).toBe(
      `{"currentState":"launched","desiredState":"launched","machineID":"${M1}","name":"web.service","options":[{"name":"Description","section":"Unit","value":"web"},{"name":"ExecStart","section":"Service","value":"/bin/sleep infinity"}]}`,
    );

    const machines = await http(target(), 'GET', '/fleet/v1/machines');
    expect(machines.body).toBe(
      `{"machines":[{"id":"${M1}","metadata":{"idx":"1","name":"of1"},"primaryIP":"127.0.0.11"},{"id":"${M2}"}]}`,
    );
    expect((await http(target(), 'GET', '/v1-alpha/machines')).body).toBe(machines.body);

    const state = `{"hash":"${hash}","machineID":"${M1}","name":"web.service","systemdActiveState":"active","systemdLoadState":"loaded","systemdSubState":"running"}`;
    expect((await http(target(), 'GET', '/fleet/v1/state')).body).toBe(`{"states":[${state}]}`);
    expect((await http(target(), 'GET', '/fleet/v1/state/web.service')).body).toBe(state);
  });
});

/** fleet's option key order: name, section, value. */
function nsv(o: { section: string; name: string; value: string }) {
  return { name: o.name, section: o.section, value: o.value };
}

describe('routing and methods', () => {
  it('/ and /fleet/v1 are 405, other unknown paths 404, all with the error body', async () => {
    const cases: [string, string, number][] = [
      ['GET', '/', 405],
      ['GET', '/fleet/v1', 405],
      ['GET', '/v1-alpha', 405],
      ['GET', '/fleet/v1/', 404],
      ['GET', '/fleet/v1/units/', 404],
      ['GET', '/fleet/v1/machines/x', 404],
      ['GET', '/fleet/v2/units', 404],
      ['GET', '/nope', 404],
    ];
    for (const [method, path, code] of cases) {
      const r = await http(unix, method, path);
      expect([path, r.status, r.body]).toEqual([path, code, errorBody(code, '')]);
      expect(r.headers.server).toBe('fleetd/v1.0.0');
    }
  });

  it('wrong methods get fleet’s 405 messages', async () => {
    const cases: [string, string, string][] = [
      ['POST', '/fleet/v1/units', 'only GET supported against this resource'],
      ['PATCH', '/fleet/v1/units/a.service', 'only GET, PUT and DELETE supported against this resource'],
      ['DELETE', '/fleet/v1/machines', 'only GET and PATCH supported against this resource'],
      ['PUT', '/fleet/v1/state', 'only GET supported against this resource'],
      ['POST', '/fleet/v1/state/a.service', 'only GET supported against this resource'],
    ];
    for (const [method, path, message] of cases) {
      const r = await http(unix, method, path);
      expect([path, r.status, r.body]).toEqual([path, 405, errorBody(405, message)]);
    }
  });

  it('discovery: GET gives the document, other methods 400', async () => {
    const r = await http(unix, 'GET', '/fleet/v1/discovery');
    expect(r.status).toBe(200);
    const doc = JSON.parse(r.body) as Record<string, unknown>;
    expect(doc).toMatchObject({ id: 'fleet:v1', rootUrl: '$ENDPOINT/', servicePath: 'fleet/v1/' });
    expect(Object.keys(doc.resources as object).sort()).toEqual(['Machines', 'UnitState', 'Units']);
    const post = await http(unix, 'POST', '/fleet/v1/discovery');
    expect([post.status, post.body]).toEqual([
      400,
      errorBody(400, 'only HTTP GET supported against this resource'),
    ]);
  });
});

describe('PUT /units/<name>', () => {
  const put = (name: string, body: unknown, target = () => unix) =>
    http(target(), 'PUT', `/fleet/v1/units/${name}`, json(body));
  const get = async (name: string) => {
    const r = await http(unix, 'GET', `/fleet/v1/units/${name}`);
    return r.status === 200 ? (JSON.parse(r.body) as Record<string, unknown>) : r.status;
  };

  it('creates (201, empty body), sets the desired state (204), re-creates on new contents (201)', async () => {
    const created = await put('api-test.service', {
      desiredState: 'launched',
      options: apiOpts(opts('one')),
    });
    expect([created.status, created.body, created.headers['content-length']]).toEqual([201, '', '0']);
    expect(await get('api-test.service')).toEqual({
      currentState: 'inactive',
      desiredState: 'launched',
      name: 'api-test.service',
      options: apiOpts(opts('one')).map(nsv),
    });
    const updated = await put('api-test.service', { desiredState: 'loaded' });
    expect([updated.status, updated.body]).toEqual([204, '']);
    expect(await get('api-test.service')).toMatchObject({ desiredState: 'loaded' });

    // Same contents and a desired state: only the state changes.
    expect(
      (await put('api-test.service', { desiredState: 'launched', options: apiOpts(opts('one')) })).status,
    ).toBe(204);
    // New contents: re-created, desired state reset to the body's (default inactive).
    expect((await put('api-test.service', { options: apiOpts(opts('two')) })).status).toBe(201);
    const unit = await get('api-test.service');
    expect(unit).toMatchObject({ desiredState: 'inactive', options: apiOpts(opts('two')).map(nsv) });
    expect((await reg.getUnit('api-test.service'))?.hash).toBe(unitHash(opts('two')));
  });

  it('the URL name is used when the body has none; a different body name is 400', async () => {
    expect((await put('a.service', { name: 'a.service', options: apiOpts(opts('a')) })).status).toBe(201);
    const r = await put('a.service', { name: 'b.service', desiredState: 'launched' });
    expect([r.status, r.body]).toEqual([
      400,
      errorBody(400, 'name in URL "a.service" differs from unit name in request body "b.service"'),
    ]);
  });

  it('fleet’s 409s: unknown unit without options, existing unit without desiredState', async () => {
    const missing = await put('no-options.service', { desiredState: 'launched' });
    expect([missing.status, missing.body]).toEqual([
      409,
      errorBody(409, 'unit does not exist and options field empty'),
    ]);
    await put('x.service', { options: apiOpts(opts('x')) });
    const noState = await put('x.service', { options: apiOpts(opts('x')) });
    expect([noState.status, noState.body]).toEqual([
      409,
      errorBody(409, 'must provide DesiredState to update existing unit'),
    ]);
  });

  it('400s: invalid name, invalid options, template activation, invalid desiredState (fleet: 204/500)', async () => {
    const badName = await put('noext', { options: apiOpts(opts('x')) });
    expect([badName.status, badName.body]).toEqual([400, errorBody(400, 'unit name must contain "."')]);
    // fleet accepted these; systemd refuses `.service`, and `.x.service` would be a hidden file.
    for (const hidden of ['.service', '.x.service']) {
      const r = await put(hidden, { options: apiOpts(opts('x')) });
      expect([hidden, r.status, r.body]).toEqual([
        hidden,
        400,
        errorBody(400, 'unit name cannot start with "."'),
      ]);
      expect(await get(hidden)).toBe(404);
    }
    const conflicting = [
      ...opts('x'),
      { section: 'X-Fleet', name: 'MachineID', value: M1 },
      { section: 'X-Fleet', name: 'Conflicts', value: 'y.service' },
    ];
    const badOpts = await put('x.service', { options: apiOpts(conflicting) });
    expect([badOpts.status, badOpts.body]).toEqual([
      400,
      errorBody(400, 'MachineID cannot be used with Conflicts'),
    ]);

    expect((await put('hello@.service', { options: apiOpts(opts('t')) })).status).toBe(201);
    const tmpl = await put('hello@.service', { desiredState: 'launched' });
    expect([tmpl.status, tmpl.body]).toEqual([
      400,
      errorBody(400, 'cannot activate template "hello@.service"'),
    ]);
    expect(await get('hello@.service')).toMatchObject({ desiredState: 'inactive' });

    expect(
      (await put('api-test.service', { desiredState: 'launched', options: apiOpts(opts('a')) })).status,
    ).toBe(201);
    const bogus = await put('api-test.service', { desiredState: 'bogus' });
    expect([bogus.status, bogus.body]).toEqual([
      400,
      errorBody(400, 'invalid desiredState "bogus": expected inactive, loaded or launched'),
    ]);
    const bogusCreate = await put('new.service', { desiredState: 'bogus', options: apiOpts(opts('n')) });
    expect(bogusCreate.status).toBe(400);
    // The unit stays readable and deletable (in fleet it became a zombie).
    expect(await get('api-test.service')).toMatchObject({ desiredState: 'launched' });
    expect(await get('new.service')).toBe(404);
    expect((await http(unix, 'DELETE', '/fleet/v1/units/api-test.service')).status).toBe(204);
  });

  it('DELETE: 204, then 404 with fleet’s message; GET of an unknown unit is 404', async () => {
    await put('d.service', { options: apiOpts(opts('d')) });
    const del = await http(unix, 'DELETE', '/fleet/v1/units/d.service');
    expect([del.status, del.body]).toEqual([204, '']);
    const again = await http(unix, 'DELETE', '/fleet/v1/units/d.service');
    expect([again.status, again.body]).toEqual([404, errorBody(404, 'unit does not exist')]);
    const unknown = await http(unix, 'GET', '/fleet/v1/units/nope.service');
    expect([unknown.status, unknown.body]).toEqual([404, errorBody(404, 'unit does not exist')]);
  });

  it('works over TCP with the token, under /v1-alpha too', async () => {
    const r = await http(tcp, 'PUT', '/v1-alpha/units/t.service', json({ options: apiOpts(opts('t')) }));
    expect(r.status).toBe(201);
    expect(await get('t.service')).toMatchObject({ name: 't.service', desiredState: 'inactive' });
  });
});

describe('GET /units/<name>/runs (fleet-ts extension: cluster cron history)', () => {
  const run = (tick: string, extra: Partial<RunRecord> = {}): RunRecord => ({
    unit: 'cron.service',
    tick,
    status: 'succeeded',
    ...extra,
  });
  const seedRuns = async (runs: readonly RunRecord[]): Promise<void> => {
    for (const r of runs) await reg.ns.put(runKey(r.unit, r.tick)).value(encodeRun(r));
  };

  it('newest first, alphabetical keys, empty fields omitted (exitStatus 0 kept); ?limit', async () => {
    await seedRunning('cron.service');
    await seedRuns([
      run('2025-01-01T00:00:00.000Z', {
        machineID: M1,
        startedAt: '2025-01-01T00:00:00.100Z',
        endedAt: '2025-01-01T00:00:01.000Z',
        result: 'success',
        exitStatus: 0,
      }),
      run('2025-01-01T00:01:00.000Z', {
        status: 'failed',
        machineID: M2,
        exitStatus: 2,
        late: true,
        reason: 'exit-code',
      }),
      run('2025-01-01T00:02:00.000Z', { status: 'missed', reason: 'no engine leader at tick time' }),
      { ...run('2025-01-01T00:03:00.000Z'), unit: 'other.service' },
    ]);
    const r = await http(unix, 'GET', '/fleet/v1/units/cron.service/runs?alt=json');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body).toBe(
      JSON.stringify({
        runs: [
          {
            reason: 'no engine leader at tick time',
            status: 'missed',
            tick: '2025-01-01T00:02:00.000Z',
            unit: 'cron.service',
          },
          {
            exitStatus: 2,
            late: true,
            machineID: M2,
            reason: 'exit-code',
            status: 'failed',
            tick: '2025-01-01T00:01:00.000Z',
            unit: 'cron.service',
          },
          {
            endedAt: '2025-01-01T00:00:01.000Z',
            exitStatus: 0,
            machineID: M1,
            result: 'success',
            startedAt: '2025-01-01T00:00:00.100Z',
            status: 'succeeded',
            tick: '2025-01-01T00:00:00.000Z',
            unit: 'cron.service',
          },
        ],
      }),
    );
    const one = await http(tcp, 'GET', '/v1-alpha/units/cron.service/runs?limit=1');
    expect((JSON.parse(one.body) as { runs: { tick: string }[] }).runs.map((x) => x.tick)).toEqual([
      '2025-01-01T00:02:00.000Z',
    ]);
  });

  it('a known unit without runs is {"runs":[]}; an unknown one 404; runs outlive their unit', async () => {
    await seedRunning('quiet.service');
    const quiet = await http(unix, 'GET', '/fleet/v1/units/quiet.service/runs');
    expect([quiet.status, quiet.body]).toEqual([200, '{"runs":[]}']);
    const unknown = await http(unix, 'GET', '/fleet/v1/units/nope.service/runs');
    expect([unknown.status, unknown.body]).toEqual([404, errorBody(404, 'unit does not exist')]);
    await seedRuns([{ ...run('2025-01-01T00:00:00.000Z'), unit: 'gone.service' }]);
    const gone = await http(unix, 'GET', '/fleet/v1/units/gone.service/runs');
    expect(gone.status).toBe(200);
    expect((JSON.parse(gone.body) as { runs: unknown[] }).runs).toHaveLength(1);
  });

  it('bad limit 400, other methods 405, names with / or .. 400, invalid names 404', async () => {
    await seedRunning('cron.service');
    for (const bad of ['0', '-1', 'x', '1.5', '', '9999999999']) {
      const r = await http(unix, 'GET', `/fleet/v1/units/cron.service/runs?limit=${bad}`);
      expect([bad, r.status, r.body]).toEqual([
        bad,
        400,
        errorBody(400, `invalid limit ${JSON.stringify(bad)}: expected a positive integer`),
      ]);
    }
    const twice = await http(unix, 'GET', '/fleet/v1/units/cron.service/runs?limit=1&limit=2');
    expect([twice.status, twice.body]).toEqual([400, errorBody(400, 'too many values for limit')]);
    const post = await http(unix, 'POST', '/fleet/v1/units/cron.service/runs');
    expect([post.status, post.body]).toEqual([
      405,
      errorBody(405, 'only GET supported against this resource'),
    ]);
    const traversal = await http(unix, 'GET', '/fleet/v1/units/..%2Fjob%2Fcron.service/runs');
    expect(traversal.status).toBe(400);
    const deeper = await http(unix, 'GET', '/fleet/v1/units/a/b.service/runs');
    expect(deeper.status).toBe(400);
    const invalid = await http(unix, 'GET', '/fleet/v1/units/noextension/runs');
    expect([invalid.status, invalid.body]).toEqual([404, errorBody(404, 'unit does not exist')]);
    // A unit literally named "runs" is still a unit.
    const named = await http(unix, 'GET', '/fleet/v1/units/runs');
    expect([named.status, named.body]).toEqual([404, errorBody(404, 'unit does not exist')]);
  });
});

describe('state', () => {
  it('filters by machineID and unitName (first value only), sorted by (name, machineID)', async () => {
    await seedMachines();
    const h1 = await seedRunning('a.service');
    const h2 = await seedRunning('b.service');
    await reg.ns
      .put(unitStateKey(M2, 'a.service'))
      .value(
        encodeState({ hash: h1, load: 'loaded', active: 'inactive', sub: 'dead', agentState: 'loaded' }),
      );
    const names = async (q: string) =>
      (
        (
          JSON.parse((await http(unix, 'GET', `/fleet/v1/state${q}`)).body) as {
            states?: { name: string; machineID: string }[];
          }
        ).states ?? []
      ).map((s) => `${s.name}@${s.machineID.slice(0, 2)}`);
    expect(await names('')).toEqual(['a.service@07', 'a.service@21', 'b.service@07']);
    expect(await names(`?machineID=${M2}`)).toEqual(['a.service@21']);
    expect(await names('?unitName=b.service')).toEqual(['b.service@07']);
    expect(await names(`?unitName=a.service&unitName=b.service&machineID=${M1}`)).toEqual(['a.service@07']);
    expect(await names('?unitName=zzz.service')).toEqual([]);
    expect(h2).toMatch(/^[0-9a-f]{40}$/);
  });

  it('/state/<unknown> is 404 (fleet crashed and closed the connection)', async () => {
    const r = await http(unix, 'GET', '/fleet/v1/state/nope.service');
    expect([r.status, r.body]).toEqual([404, errorBody(404, 'unit does not exist')]);
    await reg.createUnit({
      name: 'idle.service',
      hash: unitHash(opts('i')),
      options: opts('i'),
      desiredState: 'inactive',
    });
    const idle = await http(unix, 'GET', '/fleet/v1/state/idle.service');
    expect([idle.status, idle.body]).toEqual([404, errorBody(404, 'unit state does not exist')]);
  });
});

describe('PATCH /machines', () => {
  const patch = (ops: unknown) => http(unix, 'PATCH', '/fleet/v1/machines', json(ops));
  const metadataOf = async (id: string) => {
    const page = JSON.parse((await http(unix, 'GET', '/fleet/v1/machines')).body) as {
      machines: { id: string; metadata?: Record<string, string> }[];
    };
    return page.machines.find((m) => m.id === id)?.metadata;
  };

  it('add, replace and remove (a tombstone that hides configured metadata): 204', async () => {
    await seedMachines();
    expect(
      (
        await patch([
          { op: 'add', path: `/${M2}/metadata/role`, value: { value: 'db' } },
          { op: 'replace', path: `/${M1}/metadata/name`, value: { value: 'renamed' } },
          { op: 'remove', path: `/${M1}/metadata/idx` },
        ])
      ).status,
    ).toBe(204);
    expect(await metadataOf(M2)).toEqual({ role: 'db' });
    expect(await metadataOf(M1)).toEqual({ name: 'renamed' });
    expect(
      (await patch([{ op: 'add', path: '/unknown-machine/metadata/k', value: { value: 'v' } }])).status,
    ).toBe(204);
  });

  it('fleet’s 400s, and nothing is applied when any op is bad', async () => {
    await seedMachines();
    const cases: [unknown, string][] = [
      [
        [{ op: 'move', path: `/${M1}/metadata/a`, value: { value: 'x' } }],
        'invalid op: expect add, remove, or replace',
      ],
      [[{ op: 'add', path: `/${M1}/meta/a`, value: { value: 'x' } }], 'machine metadata path invalid'],
      [[{ op: 'add', path: '/../metadata/a', value: { value: 'x' } }], 'machine metadata path invalid'],
      [[{ op: 'add', path: `/${M1}/metadata/a` }], 'invalid value: add and replace require a value'],
      [
        [
          { op: 'add', path: `/${M1}/metadata/ok`, value: { value: 'x' } },
          { op: 'add', path: `/${M1}/metadata/bad/key`, value: { value: 'x' } },
        ],
        'machine metadata path invalid',
      ],
    ];
    for (const [ops, message] of cases) {
      const r = await patch(ops);
      expect([r.status, r.body]).toEqual([400, errorBody(400, message)]);
    }
    const plain = await patch([{ op: 'add', path: `/${M1}/metadata/a`, value: 'x' }]);
    expect(plain.status).toBe(400);
    expect(JSON.parse(plain.body).error.message).toMatch(
      /^json: cannot unmarshal string into Go struct field/,
    );
    expect(await metadataOf(M1)).toEqual({ idx: '1', name: 'of1' });
  });
});

describe('pagination', () => {
  it('pages of token_limit with fleet’s tokens; a full last page still sets a token; {} after the end', async () => {
    const names = Array.from({ length: 250 }, (_, i) => `p${String(i).padStart(3, '0')}.service`);
    const o = opts('p');
    await Promise.all(
      names.map((name) => reg.createUnit({ name, hash: unitHash(o), options: o, desiredState: 'inactive' })),
    );
    const seen: string[] = [];
    const tokens: string[] = [];
    let path = '/fleet/v1/units?alt=json';
    for (;;) {
      const page = JSON.parse((await http(unix, 'GET', path)).body) as {
        units?: { name: string }[];
        nextPageToken?: string;
      };
      seen.push(...(page.units ?? []).map((u) => u.name));
      if (!page.nextPageToken) break;
      tokens.push(page.nextPageToken);
      path = `/fleet/v1/units?alt=json&nextPageToken=${encodeURIComponent(page.nextPageToken)}`;
    }
    expect(seen).toEqual(names);
    expect(tokens).toEqual(['ZAACAA==', 'ZAADAA==']);
    const key = (o: object) => Object.keys(o);
    expect(key(JSON.parse((await http(unix, 'GET', '/fleet/v1/units')).body))).toEqual([
      'nextPageToken',
      'units',
    ]);

    // Exactly 200 units: page 2 is full, so it carries a token to an empty page. A client pages from
    // a first page, which reads afresh (later pages are cut from its listing, see api-paging.test.ts).
    await Promise.all(names.slice(200).map((n) => reg.destroyUnit(n)));
    expect(JSON.parse((await http(unix, 'GET', '/fleet/v1/units')).body).nextPageToken).toBe('ZAACAA==');
    const p2 = JSON.parse((await http(unix, 'GET', '/fleet/v1/units?nextPageToken=ZAACAA==')).body);
    expect(p2.nextPageToken).toBe('ZAADAA==');
    expect((await http(unix, 'GET', '/fleet/v1/units?nextPageToken=ZAADAA==')).body).toBe('{}');
  });

  it('bad tokens: fleet’s 400 messages, on every list endpoint', async () => {
    const limit50 = Buffer.from([50, 0, 1, 0]).toString('base64url');
    const page0 = Buffer.from([100, 0, 0, 0]).toString('base64');
    const cases: [string, string][] = [
      ['garbage', 'illegal base64 data at input byte 4'],
      ['!!!!', 'illegal base64 data at input byte 0'],
      [`${limit50}==`, 'token limit must be 100'],
      [page0, 'token page must be greater than zero'],
      ['ZAA=', 'unexpected EOF'],
    ];
    for (const list of ['units', 'machines', 'state']) {
      for (const [tok, message] of cases) {
        const r = await http(unix, 'GET', `/fleet/v1/${list}?nextPageToken=${encodeURIComponent(tok)}`);
        expect([list, tok, r.status, r.body]).toEqual([list, tok, 400, errorBody(400, message)]);
      }
      const two = await http(unix, 'GET', `/fleet/v1/${list}?nextPageToken=ZAACAA==&nextPageToken=ZAACAA==`);
      expect([two.status, two.body]).toEqual([400, errorBody(400, 'too many values for page token')]);
    }
  });
});

describe('the unix socket', () => {
  it('is created with mode 0660', () => {
    expect(statSync(join(dir, 'fleet.sock')).mode & 0o777).toBe(0o660);
  });
});
