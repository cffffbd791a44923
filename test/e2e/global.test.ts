// Issue 6, Global units on real systemd machines: a `Global=true` unit runs on every machine of the
// cluster, also on one that boots after it was started, and `fleetctl destroy` removes it everywhere
// (fleet's unit file and the systemd unit both gone). Driven by the compiled fleetctl from the host.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureBuilt,
  fleetctl,
  fleetctlOk,
  hasUnitFile,
  isActive,
  listUnits,
  loadState,
  machineNamed,
  PROJECT,
  until,
} from '../support/fleet-e2e.js';
import { type Cluster, createCluster, type MachineSpec } from '../support/nspawn.js';

const UNIT = 'everywhere.service';
const FLEET_CONF = { agent_ttl: '5s' };
const FIRST: MachineSpec[] = [
  { name: 'glob1', metadata: { role: 'a' }, fleetConf: FLEET_CONF },
  { name: 'glob2', metadata: { role: 'b' }, fleetConf: FLEET_CONF },
];
const LATE: MachineSpec = { name: 'glob3', metadata: { role: 'c' }, fleetConf: FLEET_CONF };

let cluster: Cluster | undefined;
let unitDir = '';

function c(): Cluster {
  if (!cluster) throw new Error('cluster did not boot');
  return cluster;
}

async function machineCount(): Promise<number> {
  const out = await fleetctlOk(c(), ['list-machines', '--no-legend']);
  return out.split('\n').filter((l) => l.trim() !== '').length;
}

/** Waits until the global unit is active/running on exactly these machines, per list-units and systemd. */
async function expectRunningOn(names: readonly string[]): Promise<void> {
  await until(`${UNIT} active/running on ${names.join(', ')} in list-units`, 60_000, async () => {
    const rows = (await listUnits(c())).filter((r) => r.unit === UNIT);
    const running = rows.filter((r) => r.active === 'active' && r.sub === 'running');
    const on = running.map((r) => machineNamed(c(), r.machineID)).sort();
    return rows.length === names.length && on.join() === [...names].sort().join() ? true : undefined;
  });
  for (const name of names) {
    expect(await isActive(c(), name, UNIT)).toBe('active');
    expect(await hasUnitFile(c(), name, UNIT)).toBe(true);
    // The unit's own output shows it really runs on that machine.
    const log = (await c().execOk(name, ['journalctl', '-u', UNIT, '--no-pager', '-o', 'cat'])).trim();
    expect(log).toContain(`global on ${name}`);
  }
}

beforeAll(async () => {
  ensureBuilt();
  unitDir = mkdtempSync(join(tmpdir(), 'fleet-ts-global-'));
  writeFileSync(
    join(unitDir, UNIT),
    [
      '[Unit]',
      'Description=runs on every machine',
      '',
      '[Service]',
      'ExecStart=/bin/sh -c "echo global on %H; exec sleep 100000"',
      '',
      '[X-Fleet]',
      'Global=true',
      '',
    ].join('\n'),
  );
  cluster = await createCluster({ machines: FIRST, projectDir: PROJECT, startFleetd: true });
  await until('both machines in list-machines', 60_000, async () =>
    (await machineCount()) === 2 ? true : undefined,
  );
});

afterAll(async () => {
  try {
    await cluster?.teardown();
  } finally {
    if (unitDir) rmSync(unitDir, { recursive: true, force: true });
  }
});

describe('Global unit on real machines', () => {
  it('runs on every machine once started', async () => {
    const r = await fleetctl(c(), ['start', join(unitDir, UNIT)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await expectRunningOn(['glob1', 'glob2']);
  });

  it('also runs on a machine that boots afterwards', async () => {
    await c().bootMachine({ ...LATE, startFleetd: true });
    await until('the late machine in list-machines', 60_000, async () =>
      (await machineCount()) === 3 ? true : undefined,
    );
    await expectRunningOn(['glob1', 'glob2', 'glob3']);
  });

  it('is removed everywhere by destroy: fleet unit file and systemd unit gone', async () => {
    const r = await fleetctl(c(), ['destroy', UNIT]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Destroyed ${UNIT}`);
    const names = ['glob1', 'glob2', 'glob3'];
    await until(`${UNIT} gone from every machine`, 30_000, async () => {
      for (const name of names) {
        if (await hasUnitFile(c(), name, UNIT)) return undefined;
        if ((await loadState(c(), name, UNIT)) !== 'not-found') return undefined;
      }
      return true;
    });
    for (const name of names) {
      expect(['inactive', 'unknown']).toContain(await isActive(c(), name, UNIT));
      // No process of the unit is left behind in the machine.
      const left = await c().exec(name, ['pgrep', '-f', '^sleep 100000']);
      expect(left.stdout.trim()).toBe('');
    }
    expect((await listUnits(c())).filter((row) => row.unit === UNIT)).toEqual([]);
    const files = await fleetctlOk(c(), ['list-unit-files', '--no-legend']);
    expect(files).not.toContain(UNIT);
  });
});
