// fleet's API v1 against a real etcd: PUT/DELETE of units with fleet 1.0's status codes and error bodies,
// and the runs of a cluster cron unit (fleet-ts extension).
import { describe, expect, it } from 'vitest';
import { encodeRun, runKey } from '../../registry/runs.js';
import type { RunRecord } from '../../units/runs.js';
import { unitHash } from '../../units/serialize.js';
import {
  apiOpts,
  errorBody,
  M1,
  M2,
  nsv,
  opts,
  reg,
  seedRunning,
  tcp,
  unix,
  useApiServer,
} from './api-contract-helpers.js';
import { http, json } from './api-helpers.js';

useApiServer();

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
