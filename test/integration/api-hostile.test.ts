// Hostile requests against the API on a real etcd: each gets fleet's error code and leaves the
// registry byte-for-byte unchanged; concurrent conflicting PUTs leave one consistent unit.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../../api/listen.js';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import { createLogger } from '../../units/log.js';
import { parseUnitFile } from '../../units/parse.js';
import { unitHash } from '../../units/serialize.js';
import type { UnitOption } from '../../units/types.js';
import { apiListenConfig } from '../support/api-config.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { http, json, snapshot, type Target } from './api-helpers.js';

let etcd: EtcdServer;
let reg: EtcdRegistry;
let server: ApiServer;
let dir: string;
let unix: Target;

const opts = (desc: string): UnitOption[] => [
  { section: 'Unit', name: 'Description', value: desc },
  { section: 'Service', name: 'ExecStart', value: '/bin/sleep infinity' },
];

beforeAll(async () => {
  etcd = await startEtcd();
  reg = openEtcdRegistry({
    endpoints: [etcd.endpoint],
    keyPrefix: '/_coreos.com/fleet/',
    requestTimeoutMs: 5000,
  });
  dir = mkdtempSync(join(tmpdir(), 'fleet-ts-api-hostile-'));
  server = await startApiServer(
    apiListenConfig({ apiSocket: join(dir, 'fleet.sock') }),
    reg,
    createLogger('api-test', { level: 'silent' }),
    { env: {} },
  );
  unix = { socketPath: join(dir, 'fleet.sock') };
});

afterAll(async () => {
  await server?.close();
  await reg?.close();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await reg.ns.delete().all();
  await reg.createUnit({
    name: 'keep.service',
    hash: unitHash(opts('keep')),
    options: opts('keep'),
    desiredState: 'launched',
  });
});

const errorOf = (body: string) => (JSON.parse(body) as { error: { code: number; message: string } }).error;

/** Runs `fn`, then proves the registry is exactly as before. */
async function unchanged(fn: () => Promise<void>): Promise<void> {
  const before = await snapshot(reg.ns);
  await fn();
  expect(await snapshot(reg.ns)).toEqual(before);
}

describe('bodies', () => {
  it('malformed JSON and wrong JSON types: 400 "unable to decode body: ..."', async () => {
    await unchanged(async () => {
      for (const body of [
        '{',
        '{"desiredState":',
        'nul',
        '[]',
        '"x"',
        '{"options":"x"}',
        '{"options":[null]}',
        '{"desiredState":5}',
        '',
        '{} trailing',
      ]) {
        for (const name of ['keep.service', 'new.service']) {
          const r = await http(unix, 'PUT', `/fleet/v1/units/${name}`, {
            headers: { 'Content-Type': 'application/json' },
            body,
          });
          expect([body, r.status]).toEqual([body, 400]);
          expect(errorOf(r.body)).toMatchObject({ code: 400 });
          expect(errorOf(r.body).message).toMatch(/^unable to decode body: ./);
        }
      }
      const patch = await http(unix, 'PATCH', '/fleet/v1/machines', {
        headers: { 'Content-Type': 'application/json' },
        body: '{"op":"add"}',
      });
      expect(patch.status).toBe(400);
    });
  });

  it('Content-Type: missing, several, or not JSON is 415; parameters are allowed', async () => {
    await unchanged(async () => {
      const body = JSON.stringify({ desiredState: 'inactive' });
      const cases: [Record<string, string | string[]>, string][] = [
        [{}, 'expected 1 Content-Type, got 0'],
        [{ 'Content-Type': ['application/json', 'application/json'] }, 'expected 1 Content-Type, got 2'],
        [
          { 'Content-Type': 'application/x-www-form-urlencoded' },
          'only acceptable Content-Type is application/json',
        ],
        [{ 'Content-Type': 'text/plain; charset=utf-8' }, 'only acceptable Content-Type is application/json'],
      ];
      for (const [headers, message] of cases) {
        const r = await http(unix, 'PUT', '/fleet/v1/units/keep.service', { headers, body });
        expect([r.status, r.body]).toEqual([415, JSON.stringify({ error: { code: 415, message } })]);
      }
    });
    const ok = await http(unix, 'PUT', '/fleet/v1/units/keep.service', {
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ desiredState: 'loaded' }),
    });
    expect(ok.status).toBe(204);
  });

  it('a 10 MB body is refused with 413, declared or chunked, and the server keeps serving', async () => {
    await unchanged(async () => {
      const variants: Record<string, string>[] = [
        { 'Content-Type': 'application/json', 'Content-Length': String(10 * 1024 * 1024) },
        { 'Content-Type': 'application/json' },
      ];
      for (const headers of variants) {
        const r = await http(unix, 'PUT', '/fleet/v1/units/big.service', {
          headers,
          streamBytes: 10 * 1024 * 1024,
        });
        expect(r.status).toBe(413);
        expect(errorOf(r.body)).toEqual({ code: 413, message: 'request body larger than 1048576 bytes' });
      }
    });
    expect((await http(unix, 'GET', '/fleet/v1/units/keep.service')).status).toBe(200);
  });

  it('unknown fields are ignored and field names match case-insensitively, like Go’s decoder', async () => {
    const r = await http(
      unix,
      'PUT',
      '/fleet/v1/units/keep.service',
      json({
        DesiredState: 'loaded',
        bogus: { deep: [1, 2] },
        machineID: 'ignored',
        currentState: 'launched',
      }),
    );
    expect(r.status).toBe(204);
    expect(await reg.getUnit('keep.service')).toMatchObject({
      desiredState: 'loaded',
      hash: unitHash(opts('keep')),
    });
  });
});

describe('names', () => {
  it('path traversal and control characters in unit names are 400 for every method', async () => {
    await unchanged(async () => {
      const names = [
        '..%2F..%2Fengine%2Fleader',
        '..%2Fkeep.service',
        'a%2Fb.service',
        '..',
        'x..service',
        '../machines',
        'bad%00.service',
        'bad%0a.service',
      ];
      for (const name of names) {
        for (const method of ['GET', 'PUT', 'DELETE']) {
          const r = await http(
            unix,
            method,
            `/fleet/v1/units/${name}`,
            json({ options: [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }] }),
          );
          expect([name, method, r.status]).toEqual([name, method, 400]);
          expect([name, method, r.body]).toEqual([name, method, expect.stringContaining('"code":400')]);
        }
        expect((await http(unix, 'GET', `/fleet/v1/state/${name}`)).status).toBe(400);
      }
      expect((await http(unix, 'GET', '/fleet/v1/units/%E0%A4%A')).status).toBe(400);
      // A name over the limit and one fleet refuses are 400 on PUT, 404 on reads (cannot exist).
      const long = `${'a'.repeat(300)}.service`;
      expect((await http(unix, 'PUT', `/fleet/v1/units/${long}`, json({ options: [] }))).status).toBe(400);
      expect((await http(unix, 'GET', `/fleet/v1/units/${long}`)).status).toBe(404);
    });
  });

  it('raw garbage on the socket gets 400 and the server survives', async () => {
    const reply = await new Promise<string>((resolve) => {
      const c = connect({ path: join(dir, 'fleet.sock') });
      let out = '';
      c.on('data', (d) => {
        out += d.toString();
      });
      c.on('close', () => resolve(out));
      c.on('error', () => resolve(out));
      c.end('GARBAGE \x00\x01 nonsense\r\n\r\n');
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await http(unix, 'GET', '/fleet/v1/units')).status).toBe(200);
  });
});

describe('concurrency', () => {
  it('20 concurrent conflicting PUTs to a new unit: all answered, one consistent unit stored', async () => {
    const bodies = Array.from({ length: 20 }, (_, i) => ({
      desiredState: i % 2 === 0 ? 'launched' : 'loaded',
      options: opts(`variant ${i}`),
    }));
    const replies = await Promise.all(
      bodies.map((b) => http(unix, 'PUT', '/fleet/v1/units/race.service', json(b))),
    );
    for (const r of replies) expect([201, 204]).toContain(r.status);
    expect(replies.filter((r) => r.status === 201).length).toBeGreaterThanOrEqual(1);

    const unit = await reg.getUnit('race.service');
    expect(unit).not.toBeNull();
    // The stored job's hash names stored contents that are exactly one of the submitted variants.
    const stored = await reg.getUnitOptions(unit?.hash as string);
    expect(stored).not.toBeNull();
    expect(unitHash(stored as UnitOption[])).toBe(unit?.hash);
    const variant = bodies.find((b) => unitHash(b.options) === unit?.hash);
    expect(variant).toBeDefined();
    const all = await snapshot(reg.ns);
    expect(Object.keys(all).filter((k) => k.startsWith('job/'))).toEqual([
      'job/keep.service',
      'job/race.service',
    ]);
    expect(parseUnitFile(all[`unit/${unit?.hash}`] as string)).toEqual(variant?.options);
  });

  it('concurrent create/delete/update of one unit never leaves a job without its contents', async () => {
    const ops = Array.from({ length: 30 }, (_, i) => {
      if (i % 3 === 0) return http(unix, 'DELETE', '/fleet/v1/units/churn.service');
      if (i % 3 === 1)
        return http(unix, 'PUT', '/fleet/v1/units/churn.service', json({ options: opts(`c${i}`) }));
      return http(unix, 'PUT', '/fleet/v1/units/churn.service', json({ desiredState: 'launched' }));
    });
    const replies = await Promise.all(ops);
    for (const r of replies) expect([201, 204, 404, 409]).toContain(r.status);
    const unit = await reg.getUnit('churn.service');
    if (unit) expect(await reg.getUnitOptions(unit.hash)).not.toBeNull();
  });
});
