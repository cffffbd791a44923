// The etcd v3 registry against a real etcd: key layout, unit CRUD, derived current state, machines with
// dynamic metadata, bad input, and listing 10,000 units.
import type { Etcd3, Namespace } from 'etcd3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rangePrefix } from '../../registry/etcd-read.js';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import { UnitNotFoundError } from '../../registry/types.js';
import { serializeUnit } from '../../units/serialize.js';
import {
  announceMachine,
  connect,
  connOpts,
  serviceText,
  TEST_PREFIX,
  unitSpec,
} from '../support/campaign-fixtures.js';
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

const rawGet = (key: string) => raw.get(`${TEST_PREFIX}${key}`).string();

describe('etcd registry: layout and unit CRUD', () => {
  it('createUnit stores contents once under unit/<hash> and the job as JSON', async () => {
    const spec = unitSpec('hello.service', serviceText(), 'inactive');
    expect(await reg.createUnit(spec)).toBe(true);
    expect(await rawGet(`unit/${spec.hash}`)).toBe(serializeUnit(spec.options));
    expect(JSON.parse((await rawGet('job/hello.service')) ?? 'null')).toEqual({
      name: 'hello.service',
      hash: spec.hash,
      desiredState: 'inactive',
    });
    // Same contents under another name: one content key.
    expect(await reg.createUnit({ ...spec, name: 'other.service' })).toBe(true);
    expect(await raw.getAll().prefix(`${TEST_PREFIX}unit/`).keys()).toHaveLength(1);
  });

  it('createUnit of an existing unit changes nothing unless replace is set', async () => {
    const a = unitSpec('a.service', serviceText(), 'loaded');
    const b = unitSpec('a.service', serviceText([], 'ExecStart=/bin/true'), 'launched');
    await reg.createUnit(a);
    expect(await reg.createUnit(b)).toBe(false);
    expect((await reg.getUnit('a.service'))?.hash).toBe(a.hash);
    expect(await reg.createUnit(b, { replace: true })).toBe(true);
    const u = await reg.getUnit('a.service');
    expect(u?.hash).toBe(b.hash);
    expect(u?.desiredState).toBe('launched');
    expect(u?.options).toEqual(b.options);
  });

  it('rejects a hash that does not match the contents, writing nothing', async () => {
    const spec = unitSpec('x.service', serviceText());
    await expect(reg.createUnit({ ...spec, hash: 'f'.repeat(40) })).rejects.toThrow(/does not match/);
    expect(await raw.getAll().prefix(TEST_PREFIX).keys()).toEqual([]);
  });

  it('refuses unit names that would escape their key, on every write', async () => {
    const spec = unitSpec('ok.service', serviceText());
    for (const name of ['a/b.service', '../engine.service', '..service']) {
      await expect(reg.createUnit({ ...spec, name })).rejects.toThrow();
      await expect(reg.setDesiredState(name, 'launched')).rejects.toThrow();
      await expect(reg.destroyUnit(name)).rejects.toThrow();
    }
    await expect(reg.setMachineMetadata('../m', 'k', 'v')).rejects.toThrow(/machine ID/);
    expect(await raw.getAll().prefix(TEST_PREFIX).keys()).toEqual([]);
  });

  it('setDesiredState updates the job; unknown units throw UnitNotFoundError', async () => {
    await reg.createUnit(unitSpec('s.service', serviceText(), 'inactive'));
    await reg.setDesiredState('s.service', 'launched');
    expect((await reg.getUnit('s.service'))?.desiredState).toBe('launched');
    await expect(reg.setDesiredState('nope.service', 'loaded')).rejects.toBeInstanceOf(UnitNotFoundError);
  });

  it('destroyUnit deletes only the job; a second destroy reports false', async () => {
    const spec = unitSpec('d.service', serviceText());
    await reg.createUnit(spec);
    await ns
      .put('schedule/m1/d.service')
      .value(JSON.stringify({ hash: spec.hash, desiredState: 'launched' }));
    expect(await reg.destroyUnit('d.service')).toBe(true);
    expect(await reg.getUnit('d.service')).toBeNull();
    expect(await reg.destroyUnit('d.service')).toBe(false);
    // The engine, not the CLI, unschedules; contents stay (content-addressed, shared).
    expect(await rawGet('schedule/m1/d.service')).not.toBeNull();
    expect(await reg.getUnitOptions(spec.hash)).toEqual(spec.options);
  });
});

describe('etcd registry: derived views', () => {
  it('listUnits derives machine and current state from the schedule and the target machine reports', async () => {
    const a = unitSpec('a.service', serviceText());
    const b = unitSpec('b.service', serviceText(), 'loaded');
    const c = unitSpec('c.service', serviceText());
    const g = unitSpec('g.service', serviceText(['Global=true']));
    for (const s of [a, b, c, g]) await reg.createUnit(s);
    const sched = (m: string, u: string, hash: string, extra: object = {}) =>
      ns.put(`schedule/${m}/${u}`).value(JSON.stringify({ hash, desiredState: 'launched', ...extra }));
    const state = (m: string, u: string, hash: string, agentState: string) =>
      ns
        .put(`state/${m}/${u}`)
        .value(JSON.stringify({ hash, load: 'loaded', active: 'active', sub: 'running', agentState }));
    await sched('m1', 'a.service', a.hash);
    await state('m1', 'a.service', a.hash, 'launched');
    await sched('m2', 'b.service', b.hash);
    // c is reported by a machine that is not its target: still inactive.
    await sched('m1', 'c.service', c.hash);
    await state('m2', 'c.service', c.hash, 'launched');
    await sched('m1', 'g.service', g.hash, { global: true });
    await sched('m2', 'g.service', g.hash, { global: true });

    const units = await reg.listUnits();
    expect(units.map((u) => [u.name, u.machineID, u.currentState, u.global])).toEqual([
      ['a.service', 'm1', 'launched', false],
      ['b.service', 'm2', 'inactive', false],
      ['c.service', 'm1', 'inactive', false],
      ['g.service', undefined, undefined, true],
    ]);
    // getUnit reads only the unit's own placements and reports: the same view as the listing.
    for (const u of units) expect(await reg.getUnit(u.name)).toEqual(u);
    expect(await reg.listSchedule()).toEqual([
      { unit: 'a.service', machineID: 'm1' },
      { unit: 'b.service', machineID: 'm2' },
      { unit: 'c.service', machineID: 'm1' },
      { unit: 'g.service', machineID: 'm1' },
      { unit: 'g.service', machineID: 'm2' },
    ]);
    const states = await reg.listUnitStates();
    expect(states.map((s) => [s.unit, s.machineID, s.agentState, s.systemd.sub])).toEqual([
      ['a.service', 'm1', 'launched', 'running'],
      ['c.service', 'm2', 'launched', 'running'],
    ]);
  });

  it('listUnitStates reads only the reports a machine/unit filter asks for', async () => {
    const report = (m: string, u: string) =>
      ns.put(`state/${m}/${u}`).value(
        JSON.stringify({
          hash: 'a'.repeat(40),
          load: 'loaded',
          active: 'active',
          sub: 'running',
          agentState: 'launched',
        }),
      );
    for (const [m, u] of [
      ['m1', 'a.service'],
      ['m1', 'b.service'],
      ['m10', 'a.service'],
      ['m2', 'b.service'],
    ] as const)
      await report(m, u);
    const pairs = async (filter?: { machineID?: string; unit?: string }) =>
      (await reg.listUnitStates(filter)).map((r) => `${r.machineID} ${r.unit}`);
    expect(await pairs()).toEqual(['m1 a.service', 'm10 a.service', 'm1 b.service', 'm2 b.service']);
    expect(await pairs({ machineID: 'm1' })).toEqual(['m1 a.service', 'm1 b.service']);
    expect(await pairs({ unit: 'a.service' })).toEqual(['m1 a.service', 'm10 a.service']);
    expect(await pairs({ machineID: 'm10', unit: 'a.service' })).toEqual(['m10 a.service']);
    expect(await pairs({ machineID: 'm2', unit: 'a.service' })).toEqual([]);
    expect(await pairs({ machineID: 'm1/a.service' })).toEqual([]);
    expect(await pairs({ unit: 'x/../a.service' })).toEqual([]);
  });

  it('listMachines merges dynamic metadata over the announced one; "" hides a key', async () => {
    const m1 = await announceMachine(ns, 'm1', { region: 'eu', disk: 'ssd' }, 5);
    const m2 = await announceMachine(ns, 'm2', {}, 5);
    await reg.setMachineMetadata('m1', 'disk', '');
    await reg.setMachineMetadata('m1', 'role', 'db');
    // Metadata of an absent machine is kept but the machine is not listed.
    await reg.setMachineMetadata('m9', 'role', 'web');
    const machines = await reg.listMachines();
    expect(machines.map((m) => [m.id, m.metadata])).toEqual([
      ['m1', { region: 'eu', role: 'db' }],
      ['m2', {}],
    ]);
    await m1.leave();
    await m2.leave();
    expect(await reg.listMachines()).toEqual([]);
  });

  it('a unit whose stored job record is malformed is skipped, the rest still list', async () => {
    await reg.createUnit(unitSpec('good.service', serviceText()));
    await ns.put('job/bad.service').value('{not json');
    expect((await reg.listUnits()).map((u) => u.name)).toEqual(['good.service']);
  });

  it('reads a prefix whose 10,000 values do not fit one gRPC message (4 MiB) in smaller pages', async () => {
    const value = 'v'.repeat(600);
    for (let i = 0; i < 10_000; i += 127) {
      await ns
        .if('job/none', 'Version', '>', -1)
        .then(
          ...Array.from({ length: Math.min(127, 10_000 - i) }, (_, k) =>
            ns.put(`big/${String(i + k).padStart(5, '0')}`).value(value),
          ),
        )
        .commit();
    }
    const { kvs } = await rangePrefix(ns, 'big/');
    expect(kvs).toHaveLength(10_000);
    expect(kvs.map((kv) => kv.key.toString())).toEqual(
      Array.from({ length: 10_000 }, (_, i) => `big/${String(i).padStart(5, '0')}`),
    );
  }, 180_000);

  it('lists 10,000 units with few reads (contents fetched once per distinct hash)', async () => {
    const specs = Array.from({ length: 50 }, (_, i) =>
      unitSpec(`tpl${i}.service`, serviceText([], `ExecStart=/bin/sleep ${i}`)),
    );
    for (const s of specs) await reg.createUnit(s);
    // Bulk-load jobs directly (127 puts per transaction) to keep the test fast.
    const jobs = Array.from({ length: 10_000 }, (_, i) => {
      const s = specs[i % specs.length]!;
      return { name: `u${String(i).padStart(5, '0')}.service`, hash: s.hash, desiredState: 'launched' };
    });
    for (let i = 0; i < jobs.length; i += 127) {
      const chunk = jobs.slice(i, i + 127);
      await ns
        .if('job/none', 'Version', '>', -1)
        .then(...chunk.map((j) => ns.put(`job/${j.name}`).value(JSON.stringify(j))))
        .commit();
    }
    // Every unit placed (10,050 schedule keys: more than one page of keys).
    const all = [...specs.map((sp) => ({ name: sp.name, hash: sp.hash })), ...jobs];
    for (let i = 0; i < all.length; i += 127) {
      const chunk = all.slice(i, i + 127);
      await ns
        .if('job/none', 'Version', '>', -1)
        .then(
          ...chunk.map((j, k) =>
            ns
              .put(`schedule/m${(i + k) % 10}/${j.name}`)
              .value(JSON.stringify({ hash: j.hash, desiredState: 'launched' })),
          ),
        )
        .commit();
    }
    const t0 = Date.now();
    const units = await reg.listUnits();
    const ms = Date.now() - t0;
    expect(units).toHaveLength(10_050);
    expect(units.filter((u) => u.name.startsWith('u'))[1234]?.options).toEqual(specs[1234 % 50]!.options);
    console.log(`listUnits of 10,050 units: ${ms} ms`);
    // The last schedule key in etcd's order is schedule/m9/u09999.service.
    const last = units.find((u) => u.name === 'u09999.service');
    expect(last?.machineID).toBe('m9');
    expect(await reg.getUnit('u09999.service')).toEqual(last);
  }, 180_000);
});
