// Issue 17 on real systemd machines (2 machines, fleetd in each, the compiled fleetctl from the host):
// `fleetctl plan` prints where units would go and why one cannot be placed (exit 0 / 2) and writes
// nothing; `fleetctl drain` moves the non-global units of a machine to the other one, one at a time, the
// second only after the first is active there (systemd's own timestamps inside the machine), keeps a
// pinned unit and a global one where they are (exit 2, reported); `undrain` moves nothing back.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureBuilt,
  fleetctl,
  fleetctlOk,
  isActive,
  listUnits,
  machineNamed,
  PROJECT,
  until,
} from '../support/fleet-e2e.js';
import { type Cluster, createCluster, type MachineSpec } from '../support/nspawn.js';

const FLEET_CONF = { agent_ttl: '5s' };
const MACHINES: MachineSpec[] = [
  { name: 'ops1', metadata: { role: 'worker' }, fleetConf: FLEET_CONF },
  { name: 'ops2', metadata: { role: 'worker' }, fleetConf: FLEET_CONF },
];
// Activating takes 3 s (ExecStartPre), so "active on the new machine" is a distinct moment.
const SLOW = '[Service]\nExecStartPre=/bin/sleep 3\nExecStart=/bin/sleep 100000\n';

let cluster: Cluster | undefined;
let dir = '';

function c(): Cluster {
  if (!cluster) throw new Error('cluster did not boot');
  return cluster;
}
const id = (name: string): string => c().machine(name).machineID;
const file = (unit: string): string => join(dir, unit);
/** Table rows as cells (TAB padding is tested elsewhere). */
const cells = (out: string): string[][] =>
  out
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(/\t+/));

/** A systemd timestamp property of the unit inside the machine, in µs since the epoch (0 if never). */
async function stamp(machine: string, unit: string, prop: string): Promise<number> {
  const out = await c().execOk(machine, [
    'systemctl',
    'show',
    '--timestamp=us+utc',
    `--property=${prop}`,
    '--value',
    unit,
  ]);
  const t = out.trim(); // e.g. "Fri 2026-12-04 19:10:01.123456 UTC"
  if (t === '' || t === 'n/a') return 0;
  const m = /(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\.(\d{6}) UTC$/.exec(t);
  if (!m) throw new Error(`cannot parse ${prop}=${t}`);
  return Date.parse(`${m[1]}T${m[2]}Z`) * 1000 + Number(m[3]);
}

async function where(): Promise<Record<string, string>> {
  const rows = await listUnits(c());
  return Object.fromEntries(rows.map((r) => [r.unit, `${machineNamed(c(), r.machineID)} ${r.active}`]));
}

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'fleet-ts-ops-'));
  writeFileSync(file('mv-a.service'), SLOW);
  writeFileSync(file('mv-b.service'), SLOW);
  writeFileSync(file('g.service'), '[Service]\nExecStart=/bin/sleep 100000\n\n[X-Fleet]\nGlobal=true\n');
  writeFileSync(
    file('db.service'),
    '[Service]\nExecStart=/bin/sleep 100000\n\n[X-Fleet]\nMachineMetadata=role=db\n',
  );
  cluster = await createCluster({ machines: MACHINES, projectDir: PROJECT, startFleetd: true });
  writeFileSync(
    file('pinned.service'),
    `[Service]\nExecStart=/bin/sleep 100000\n\n[X-Fleet]\nMachineID=${id('ops1')}\n`,
  );
  await until('both machines in list-machines', 120_000, async () => {
    const out = await fleetctlOk(c(), ['list-machines', '--no-legend']);
    return out.trim().split('\n').length === 2 ? true : undefined;
  });
});

afterAll(async () => {
  try {
    await cluster?.teardown();
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

describe('plan and drain on real machines', () => {
  it('plan shows placements and why a unit cannot be placed, and writes nothing', async () => {
    // ops2 drained first, so every unit starts on ops1 (and plan must see the drain mark).
    expect((await fleetctl(c(), ['drain', '--no-block', id('ops2')])).code).toBe(0);
    const files = ['mv-a', 'mv-b', 'pinned', 'g'].map((u) => file(`${u}.service`));
    const ok = await fleetctl(c(), ['plan', '-l', ...files]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const ops1 = `${id('ops1')}/${c().machine('ops1').ip}`;
    const ops2 = `${id('ops2')}/${c().machine('ops2').ip}`;
    // Rows by unit, a global unit's by machine ID (random per boot: sort the expected pair too).
    const globalRows = [ops1, ops2]
      .sort()
      .map((m) => ['g.service', 'place', m, 'global: every machine able to run it']);
    expect(cells(ok.stdout)).toEqual([
      ['UNIT', 'CHANGE', 'MACHINE', 'REASON'],
      ...globalRows,
      ['mv-a.service', 'place', ops1, 'least-loaded machine able to run it'],
      ['mv-b.service', 'place', ops1, 'least-loaded machine able to run it'],
      ['pinned.service', 'place', ops1, `MachineID=${id('ops1')}`],
    ]);
    const bad = await fleetctl(c(), ['plan', '--no-legend', file('db.service')]);
    expect(bad.code).toBe(2);
    expect(cells(bad.stdout)).toEqual([
      ['db.service', 'unplaced', '-', '2 machines: 1 is drained, 1 lacks role=db'],
    ]);
    const json = JSON.parse((await fleetctl(c(), ['plan', '--output', 'json', file('db.service')])).stdout);
    expect(json).toMatchObject([{ unit: 'db.service', change: 'unplaced', machine: null }]);
    expect((await fleetctlOk(c(), ['list-unit-files', '--no-legend'])).trim()).toBe('');
  });

  it('units start where plan said; undrain moves nothing', async () => {
    const files = ['mv-a', 'mv-b', 'pinned', 'g'].map((u) => file(`${u}.service`));
    expect((await fleetctl(c(), ['start', ...files], { timeoutMs: 120_000 })).code).toBe(0);
    await until('units active on ops1', 120_000, async () => {
      const w = await where();
      return w['mv-a.service'] === 'ops1 active' &&
        w['mv-b.service'] === 'ops1 active' &&
        w['pinned.service'] === 'ops1 active'
        ? true
        : undefined;
    });
    expect(await fleetctlOk(c(), ['undrain', id('ops2')])).toContain('undrained');
    // The global unit now also goes to ops2; the others stay where they run.
    await until('g.service on ops2', 60_000, async () =>
      (await isActive(c(), 'ops2', 'g.service')) === 'active' ? true : undefined,
    );
    for (const u of ['mv-a.service', 'mv-b.service', 'pinned.service'])
      expect(await isActive(c(), 'ops1', u)).toBe('active');
  });

  it('drain moves units one at a time, each after the previous is active; keeps pinned and global units', async () => {
    const r = await fleetctl(c(), ['drain', id('ops1').slice(0, 8)], { timeoutMs: 400_000 });
    expect(r.stdout).toContain(`Machine ${id('ops1')} drained`);
    expect(r.stdout).toContain(
      `Unit pinned.service stays on machine ${id('ops1')}: stays on drained Machine(${id('ops1')}): 1 other machine: 1 does not match MachineID=${id('ops1')}`,
    );
    expect(r.code).toBe(2);
    // systemd inside the machines: the movable units run on ops2 only, pinned and global stay on ops1.
    for (const u of ['mv-a.service', 'mv-b.service']) {
      expect(await isActive(c(), 'ops2', u)).toBe('active');
      expect(await isActive(c(), 'ops1', u)).not.toBe('active');
    }
    expect(await isActive(c(), 'ops1', 'pinned.service')).toBe('active');
    expect(await isActive(c(), 'ops1', 'g.service')).toBe('active');
    // One at a time: mv-b began starting on ops2 only after mv-a was active there (systemd's own clock in
    // the machine; mv-b's copy on ops1 is unloaded, so systemd there no longer knows its timestamps).
    const aActive = await stamp('ops2', 'mv-a.service', 'ActiveEnterTimestamp');
    const bStarting = await stamp('ops2', 'mv-b.service', 'InactiveExitTimestamp');
    expect(aActive).toBeGreaterThan(0);
    expect(bStarting).toBeGreaterThanOrEqual(aActive);
    const machines = await fleetctlOk(c(), [
      'list-machines',
      '-l',
      '--no-legend',
      '--fields',
      'machine,state',
    ]);
    expect(cells(machines)).toEqual(
      [
        [id('ops1'), 'drained'],
        [id('ops2'), 'active'],
      ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    );
  });

  it('plan on the drained cluster; undrain lets ops1 take units again without moving any back', async () => {
    const p = await fleetctl(c(), ['plan', '--no-legend', file('db.service'), file('mv-a.service')]);
    expect(p.code).toBe(2);
    expect(cells(p.stdout)).toEqual([
      ['db.service', 'unplaced', '-', '2 machines: 1 is drained, 1 lacks role=db'],
      [
        'mv-a.service',
        'keep',
        `${id('ops2').slice(0, 8)}.../${c().machine('ops2').ip}`,
        'already runs there',
      ],
    ]);
    expect(await fleetctlOk(c(), ['undrain', id('ops1')])).toContain('undrained');
    const after = await fleetctlOk(c(), ['list-machines', '--no-legend', '--fields', 'state']);
    expect(after.trim().split('\n')).toEqual(['active', 'active']);
    const w = await where();
    expect(w['mv-a.service']).toBe('ops2 active');
    expect(w['mv-b.service']).toBe('ops2 active');
  });
});
