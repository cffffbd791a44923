// fleet's API v1 served by fleetd's handler against a real etcd, on a unix socket and on 127.0.0.1
// with a bearer token: every endpoint, status code, error body and JSON shape fleet 1.0 had.
// Here: read endpoints over both listeners, routing and methods, /state, the socket's mode.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unitStateKey } from '../../registry/keys.js';
import { encodeState } from '../../registry/records.js';
import { unitHash } from '../../units/serialize.js';
import {
  apiOpts,
  dir,
  errorBody,
  M1,
  M2,
  nsv,
  opts,
  reg,
  seedMachines,
  seedRunning,
  tcp,
  unix,
  useApiServer,
} from './api-contract-helpers.js';
import { http } from './api-helpers.js';

useApiServer();

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

describe('the unix socket', () => {
  it('is created with mode 0660', () => {
    expect(statSync(join(dir, 'fleet.sock')).mode & 0o777).toBe(0o660);
  });
});
