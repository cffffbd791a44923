// A job record whose value names another unit than its key is rejected and logged once (issue 14):
// before, the engine's snapshot took the name from the value and its watch from the key, so the two
// disagreed about which unit existed.
import { Writable } from 'node:stream';
import type { Etcd3, Namespace } from 'etcd3';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEngineStore } from '../../registry/engine-store.js';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import { connect, connOpts, serviceText, unitSpec } from '../support/campaign-fixtures.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';

let etcd: EtcdServer;
let reg: EtcdRegistry;
let raw: Etcd3;
let ns: Namespace;

beforeAll(async () => {
  etcd = await startEtcd();
  reg = openEtcdRegistry(connOpts(etcd.endpoint));
  ({ client: raw, ns } = connect(etcd.endpoint));
});
afterAll(async () => {
  await reg?.close();
  raw?.close();
  await etcd?.stop();
});

it('a job whose value names another unit is ignored by the engine and the API listing, logged once', async () => {
  const good = unitSpec('good.service', serviceText());
  await reg.createUnit(good);
  // Written straight into etcd, as a compromised host or a hand edit could.
  await ns
    .put('job/evil.service')
    .value(JSON.stringify({ name: 'good.service', hash: good.hash, desiredState: 'launched' }));

  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const store = createEngineStore(ns, pino({ level: 'warn' }, sink));
  for (let i = 0; i < 3; i++) {
    const snap = await store.loadSnapshot();
    expect([...snap.state.units.keys()]).toEqual(['good.service']);
  }
  const warnings = lines.filter((l) => l.includes('job/evil.service'));
  expect(warnings).toHaveLength(1);
  expect(JSON.parse(warnings[0] as string).err).toBe(
    'RecordDecodeError: bad registry record job/evil.service: field name "good.service" differs from the key',
  );
  expect((await reg.listUnits()).map((u) => u.name)).toEqual(['good.service']);
  // Read directly, it is an error naming the record (as for any malformed record), not good.service.
  await expect(reg.getUnit('evil.service')).rejects.toThrow(
    'bad registry record job/evil.service: field name "good.service" differs from the key',
  );
}, 60_000);
