// The registry's batch writes (registry/batch-writes.ts) against a real etcd: many units in a few
// transactions within etcd's default --max-txn-ops, the same outcome per unit as the per-unit writes
// (existing units are not overwritten, unknown ones are reported), and a chunk touched by another
// writer falls back to deciding each unit on its own.
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import { UnitNotFoundError } from '../../registry/types.js';
import { connect, connOpts, serviceText, TEST_PREFIX, unitSpec } from '../support/campaign-fixtures.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';

let etcd: EtcdServer;
let reg: EtcdRegistry;
let raw: Etcd3;

beforeAll(async () => {
  etcd = await startEtcd();
  reg = openEtcdRegistry(connOpts(etcd.endpoint));
  ({ client: raw } = connect(etcd.endpoint));
});

afterAll(async () => {
  await reg?.close();
  raw?.close();
  await etcd?.stop();
});

beforeEach(async () => {
  await raw.delete().all();
});

const names = (n: number, base = 'b') => Array.from({ length: n }, (_, i) => `${base}@${i + 1}.service`);
const desired = async () => new Map((await reg.listUnits()).map((u) => [u.name, u.desiredState] as const));

describe('registry batch writes', () => {
  it('creates 300 units (two contents) in chunks etcd accepts at --max-txn-ops 128', async () => {
    const specs = names(300).map((n, i) =>
      unitSpec(n, serviceText([], i % 2 ? 'ExecStart=/bin/true' : 'ExecStart=/bin/false'), 'inactive'),
    );
    expect(await reg.createUnits(specs)).toEqual(specs.map(() => true));
    const units = await reg.listUnits();
    expect(units.map((u) => u.name).sort()).toEqual(names(300).sort());
    expect(await raw.getAll().prefix(`${TEST_PREFIX}unit/`).keys()).toHaveLength(2);
    expect(new Set(units.map((u) => u.desiredState))).toEqual(new Set(['inactive']));
  });

  it('an existing unit in a chunk is left alone and reported false; the others are created', async () => {
    const specs = names(100).map((n) => unitSpec(n, serviceText(), 'inactive'));
    await reg.createUnit(unitSpec('b@7.service', serviceText([], 'ExecStart=/bin/true'), 'launched'));
    const created = await reg.createUnits(specs);
    expect(created.filter((c) => !c)).toHaveLength(1);
    expect(created[6]).toBe(false);
    const d = await desired();
    expect(d.size).toBe(100);
    expect(d.get('b@7.service')).toBe('launched');
    expect(d.get('b@8.service')).toBe('inactive');
  });

  it('a unit that may not be submitted fails the call before any unit of any chunk is written', async () => {
    const specs = [...names(200), 'sshd.service'].map((n) => unitSpec(n, serviceText(), 'inactive'));
    await expect(reg.createUnits(specs)).rejects.toThrow(/sshd\.service/);
    expect(await reg.listUnits()).toEqual([]);
  });

  it('sets 300 desired states, skipping units already there, and refuses an unknown unit', async () => {
    await reg.createUnits(names(300).map((n) => unitSpec(n, serviceText(), 'inactive')));
    await reg.setDesiredState('b@1.service', 'launched');
    await reg.setDesiredStates(names(300), 'launched');
    expect(new Set((await desired()).values())).toEqual(new Set(['launched']));
    await expect(reg.setDesiredStates(['b@1.service', 'nope.service'], 'loaded')).rejects.toThrow(
      UnitNotFoundError,
    );
  });

  it('destroys 300 units and their run records; unknown names are reported false', async () => {
    await reg.createUnits(names(300).map((n) => unitSpec(n, serviceText(), 'inactive')));
    await raw.put(`${TEST_PREFIX}runs/b@5.service/1`).value('{}');
    const gone = await reg.destroyUnits([...names(300), 'nope.service']);
    expect(gone.slice(0, 300)).toEqual(names(300).map(() => true));
    expect(gone[300]).toBe(false);
    expect(await reg.listUnits()).toEqual([]);
    expect(await raw.getAll().prefix(`${TEST_PREFIX}runs/`).keys()).toEqual([]);
  });
});
