// createUnit's compare-and-swap (`replace` + `expectHash`) against a real etcd: a replace over the
// version the caller saw writes; over any other version (or no unit) it changes nothing; of many
// concurrent replacers of one version exactly one writes; an unrelated change of the job (desired
// state) does not make it fail.
import type { Etcd3, Namespace } from 'etcd3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import { jobKey } from '../../registry/keys.js';
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

beforeEach(async () => {
  await raw.delete().all();
});

const version = (n: number) => unitSpec('cas.service', serviceText([], `ExecStart=/bin/sleep ${n}`));

/** The job key's raw value and its etcd version (how many times it was written since creation). */
async function jobKv(name: string): Promise<{ value: string; version: number } | undefined> {
  const kv = (await ns.get(jobKey(name)).exec()).kvs[0];
  return kv ? { value: kv.value.toString(), version: Number(kv.version) } : undefined;
}

describe('createUnit with replace and expectHash', () => {
  it('replaces when the stored hash is the expected one', async () => {
    const [v1, v2] = [version(1), version(2)];
    expect(await reg.createUnit(v1)).toBe(true);
    expect(await reg.createUnit(v2, { replace: true, expectHash: v1.hash })).toBe(true);
    const u = await reg.getUnit('cas.service');
    expect(u?.hash).toBe(v2.hash);
    expect(u?.options).toEqual(v2.options);
    expect((await jobKv('cas.service'))?.version).toBe(2);
  });

  it('a stale expectHash returns false and changes nothing', async () => {
    const [v1, v2, v3] = [version(1), version(2), version(3)];
    await reg.createUnit(v1);
    await reg.createUnit(v2, { replace: true });
    const before = await jobKv('cas.service');
    expect(await reg.createUnit(v3, { replace: true, expectHash: v1.hash })).toBe(false);
    expect(await jobKv('cas.service')).toEqual(before);
    // Nor were v3's contents stored: the contents go in the same transaction as the job.
    expect(await reg.getUnitOptions(v3.hash)).toBeNull();
  });

  it('an expectHash for a unit that does not exist returns false and creates nothing', async () => {
    const v1 = version(1);
    expect(await reg.createUnit(version(2), { replace: true, expectHash: v1.hash })).toBe(false);
    expect(await reg.getUnit('cas.service')).toBeNull();
  });

  it('of eight concurrent replacers of the same version exactly one writes, once', async () => {
    const v0 = version(0);
    await reg.createUnit(v0);
    const candidates = [1, 2, 3, 4, 5, 6, 7, 8].map(version);
    // Each on its own connection, as separate fleetds would be.
    const clients = candidates.map(() => openEtcdRegistry(connOpts(etcd.endpoint)));
    try {
      const results = await Promise.all(
        candidates.map((spec, i) => clients[i]?.createUnit(spec, { replace: true, expectHash: v0.hash })),
      );
      expect(results.filter((r) => r === true)).toHaveLength(1);
      expect(results.filter((r) => r === false)).toHaveLength(7);
      const winner = candidates[results.indexOf(true)];
      expect((await reg.getUnit('cas.service'))?.hash).toBe(winner?.hash);
      expect((await jobKv('cas.service'))?.version).toBe(2);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('without expectHash the same concurrent replaces all write (what expectHash prevents)', async () => {
    const v0 = version(0);
    await reg.createUnit(v0);
    const candidates = [1, 2, 3, 4].map(version);
    const results = await Promise.all(candidates.map((spec) => reg.createUnit(spec, { replace: true })));
    expect(results).toEqual([true, true, true, true]);
    expect((await jobKv('cas.service'))?.version).toBe(5);
  });

  it('a concurrent desired-state change (same hash) does not make the replace fail', async () => {
    for (let round = 0; round < 20; round++) {
      const [from, to] = [version(round * 2), version(round * 2 + 1)];
      await raw.delete().all();
      await reg.createUnit({ ...from, desiredState: 'loaded' });
      const [replaced] = await Promise.all([
        reg.createUnit(to, { replace: true, expectHash: from.hash }),
        reg.setDesiredState('cas.service', 'launched').catch(() => undefined),
      ]);
      expect(replaced).toBe(true);
      expect((await reg.getUnit('cas.service'))?.hash).toBe(to.hash);
    }
  });
});
