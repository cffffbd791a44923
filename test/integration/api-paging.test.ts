// Paging through fleetd's API against a real etcd: a first page (no token) reads the registry, the
// pages requested with its nextPageToken are cut from that same listing while it is young (10 s), so
// a paging client sees one consistent snapshot and the registry is read once, not once per page.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../api/handler.js';
import type { ApiRegistry } from '../../api/route.js';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import { machineObjectKey, unitStateKey } from '../../registry/keys.js';
import { encodeMachine, encodeState } from '../../registry/records.js';
import { createLogger } from '../../units/log.js';
import { unitHash } from '../../units/serialize.js';
import type { UnitOption } from '../../units/types.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { http, type Target } from './api-helpers.js';

const M1 = '07d9057b44b34f9aa5b45f8c19c375c6';
const M2 = '21e51b3c543a44839c2a4e0ec9177954';

let etcd: EtcdServer;
let reg: EtcdRegistry;
let dir: string;
const servers: Server[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  reg = openEtcdRegistry({
    endpoints: [etcd.endpoint],
    keyPrefix: '/_coreos.com/fleet/',
    requestTimeoutMs: 30_000,
  });
  dir = mkdtempSync(join(tmpdir(), 'fleet-ts-api-paging-'));
});

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  );
});

afterAll(async () => {
  await reg?.close();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await reg.ns.delete().all();
});

/** Registry reads of each listing the handler made. */
interface Reads {
  units: number;
  states: number;
  machines: number;
}

function countingRegistry(r: EtcdRegistry): { registry: ApiRegistry; reads: Reads } {
  const reads: Reads = { units: 0, states: 0, machines: 0 };
  const registry: ApiRegistry = {
    listUnits: () => {
      reads.units++;
      return r.listUnits();
    },
    listUnitStates: (filter) => {
      reads.states++;
      return r.listUnitStates(filter);
    },
    listMachines: () => {
      reads.machines++;
      return r.listMachines();
    },
    getUnit: (name) => r.getUnit(name),
    createUnit: (spec, o) => r.createUnit(spec, o),
    setDesiredState: (name, state) => r.setDesiredState(name, state),
    destroyUnit: (name) => r.destroyUnit(name),
    setMachineMetadata: (id, key, value) => r.setMachineMetadata(id, key, value),
  };
  return { registry, reads };
}

let serial = 0;
async function serve(
  opts: { tokenLimit?: number; now?: () => number } = {},
): Promise<{ target: Target; reads: Reads }> {
  const { registry, reads } = countingRegistry(reg);
  const handler = createApiHandler({
    registry,
    tokenLimit: opts.tokenLimit ?? 100,
    version: 'v1.0.0',
    log: createLogger('api-paging-test', { level: 'silent' }),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const server = createServer(handler);
  servers.push(server);
  const socketPath = join(dir, `api-${serial++}.sock`);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return { target: { socketPath }, reads };
}

const o: UnitOption[] = [{ section: 'Service', name: 'ExecStart', value: '/bin/sleep infinity' }];
const names = (n: number, prefix = 'p') =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}.service`);
const createUnits = (list: readonly string[]) =>
  Promise.all(
    list.map((name) => reg.createUnit({ name, hash: unitHash(o), options: o, desiredState: 'inactive' })),
  );

interface Page {
  items: string[];
  next?: string;
}

async function getPage(
  target: Target,
  list: 'units' | 'state' | 'machines',
  token?: string,
  filter = '',
): Promise<Page> {
  const params = [filter, token === undefined ? '' : `nextPageToken=${encodeURIComponent(token)}`].filter(
    Boolean,
  );
  const r = await http(target, 'GET', `/fleet/v1/${list}${params.length ? `?${params.join('&')}` : ''}`);
  expect(r.status).toBe(200);
  const body = JSON.parse(r.body) as {
    units?: { name: string }[];
    states?: { name: string; machineID: string }[];
    machines?: { id: string }[];
    nextPageToken?: string;
  };
  const items = [
    ...(body.units ?? []).map((u) => u.name),
    ...(body.states ?? []).map((s) => `${s.name}@${s.machineID}`),
    ...(body.machines ?? []).map((m) => m.id),
  ];
  return { items, ...(body.nextPageToken ? { next: body.nextPageToken } : {}) };
}

/** Every page from the first (no token) to the last. */
async function pageThrough(
  target: Target,
  list: 'units' | 'state' | 'machines',
  filter = '',
): Promise<string[][]> {
  const pages: string[][] = [];
  let token: string | undefined;
  do {
    const page = await getPage(target, list, token, filter);
    pages.push(page.items);
    token = page.next;
  } while (token !== undefined);
  return pages;
}

describe('GET /units pages', () => {
  it('250 units: the same pages as before, from one registry read per paging', async () => {
    const all = names(250);
    await createUnits(all);
    const { target, reads } = await serve();
    const pages = await pageThrough(target, 'units');
    expect(pages).toEqual([all.slice(0, 100), all.slice(100, 200), all.slice(200)]);
    expect(reads.units).toBe(1);
    // Paging again starts with a first page: a new read.
    expect((await pageThrough(target, 'units')).flat()).toEqual(all);
    expect(reads.units).toBe(2);
  });

  it('writes between pages do not shift later pages; a first page after the write sees it', async () => {
    const all = names(250);
    await createUnits(all);
    const { target } = await serve();
    const p1 = await getPage(target, 'units');
    expect(p1.items).toEqual(all.slice(0, 100));

    // Sorts before every unit (fleet would then repeat p099 on page 2), and one from page 3 goes.
    await createUnits(['a000.service']);
    await reg.destroyUnit('p249.service');

    const p2 = await getPage(target, 'units', p1.next);
    const p3 = await getPage(target, 'units', p2.next);
    expect([...p1.items, ...p2.items, ...p3.items]).toEqual(all);
    expect(p3.next).toBeUndefined();

    const fresh = await pageThrough(target, 'units');
    expect(fresh.flat()).toEqual(['a000.service', ...all.slice(0, 249)]);
    expect(fresh[0]?.[0]).toBe('a000.service');
  });

  it('a listing older than 10 s is read again for a later page (which then shows the write)', async () => {
    const all = names(150);
    await createUnits(all);
    let clock = 1_000_000;
    const { target, reads } = await serve({ now: () => clock });
    const p1 = await getPage(target, 'units');
    await createUnits(['a000.service']);

    clock += 10_000; // exactly the limit: still the first page's listing
    expect((await getPage(target, 'units', p1.next)).items).toEqual(all.slice(100));
    expect(reads.units).toBe(1);

    clock += 1;
    const late = await getPage(target, 'units', p1.next);
    expect(late.items).toEqual(all.slice(99)); // fleet's behaviour: p099 shifted to page 2
    expect(reads.units).toBe(2);
  });

  it('a request with a page-2 token but no first page before it reads the registry', async () => {
    await createUnits(names(150));
    const { target, reads } = await serve();
    expect((await getPage(target, 'units', 'ZAACAA==')).items).toEqual(names(150).slice(100));
    expect(reads.units).toBe(1);
  });
});

describe('GET /state pages', () => {
  const report = encodeState({
    hash: 'h',
    load: 'loaded',
    active: 'active',
    sub: 'running',
    agentState: 'launched',
  });
  const seedStates = async (machine: string, units: readonly string[]) => {
    for (const unit of units) await reg.ns.put(unitStateKey(machine, unit)).value(report);
  };

  it('pages of one filter are cut from that filter’s listing; another filter reads afresh', async () => {
    const onM1 = names(150);
    const onM2 = names(120, 'q');
    await seedStates(M1, onM1);
    await seedStates(M2, onM2);
    const { target, reads } = await serve();

    const p1 = await getPage(target, 'state', undefined, `machineID=${M1}`);
    expect(p1.items).toEqual(onM1.slice(0, 100).map((u) => `${u}@${M1}`));
    await seedStates(M1, ['a000.service']);
    // The same token with another machine's filter is that machine's page 2, not M1's.
    expect((await getPage(target, 'state', p1.next, `machineID=${M2}`)).items).toEqual(
      onM2.slice(100).map((u) => `${u}@${M2}`),
    );
    expect(reads.states).toBe(2);

    // M1's page 2 after M2's listing replaced it: read afresh (one listing per endpoint), so it shows
    // the new report's shift, as fleet did.
    expect((await getPage(target, 'state', p1.next, `machineID=${M1}`)).items).toEqual(
      onM1.slice(99).map((u) => `${u}@${M1}`),
    );
    expect(reads.states).toBe(3);

    // Unfiltered: one read for both pages, which stay consistent with page 1 despite a new report.
    const u1 = await getPage(target, 'state');
    await seedStates(M1, ['a001.service']);
    const u2 = await getPage(target, 'state', u1.next);
    const u3 = await getPage(target, 'state', u2.next);
    expect(reads.states).toBe(4);
    const listed = [...u1.items, ...u2.items, ...u3.items];
    expect(listed).toHaveLength(271);
    expect(new Set(listed).size).toBe(271);
    expect(listed).not.toContain(`a001.service@${M1}`);
  });
});

describe('GET /machines pages', () => {
  const seedMachine = (id: string) =>
    reg.ns
      .put(machineObjectKey(id))
      .value(encodeMachine({ id, publicIP: '', metadata: {}, version: 't', disableEngine: false }));

  it('pages after the first are cut from its listing', async () => {
    const ids = ['b1', 'b2', 'b3'].map((p) => `${p}${'0'.repeat(30)}`);
    for (const id of ids) await seedMachine(id);
    const { target, reads } = await serve({ tokenLimit: 2 });
    const p1 = await getPage(target, 'machines');
    expect(p1.items).toEqual(ids.slice(0, 2));
    await seedMachine(`a1${'0'.repeat(30)}`);
    expect((await getPage(target, 'machines', p1.next)).items).toEqual(ids.slice(2));
    expect(reads.machines).toBe(1);
    expect((await getPage(target, 'machines')).items).toEqual([`a1${'0'.repeat(30)}`, ids[0]]);
  });
});
