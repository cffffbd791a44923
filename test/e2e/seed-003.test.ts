// Seed 003 on real systemd machines: three machines run the engine, two are role=worker. A template
// web server restricted to workers and conflicting with its own instances runs one per worker; a
// third instance waits, unscheduled, until a third worker boots into the running cluster.
// Everything goes through fleetctl as a real process; systemd's view is read inside the machines.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, createCluster } from '../support/nspawn.js';
import {
  APACHE_UNIT,
  activeInMachine,
  ensureBuilt,
  fleetctl,
  fleetctlOk,
  fleetdLog,
  httpGet,
  listUnitFiles,
  listUnits,
  machineByID,
  PROJECT,
  unitDir,
  until,
  waitForMachines,
} from './fleet-scenario.js';

const NAMES = ['ctl', 'worker1', 'worker2'];
let cluster: Cluster | undefined;
const units = unitDir({ 'apache@.service': APACHE_UNIT });
let failed = false;

function c(): Cluster {
  if (!cluster) throw new Error('cluster did not boot');
  return cluster;
}

/** Every apache instance systemd runs, per live machine. */
async function apacheByMachine(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const m of c().machines.values()) {
    if (m.running()) out.set(m.name, await activeInMachine(c(), m.name, 'apache@*'));
  }
  return out;
}

beforeAll(async () => {
  ensureBuilt();
  cluster = await createCluster({
    machines: NAMES.map((name) => ({
      name,
      metadata: name.startsWith('worker') ? { role: 'worker' } : undefined,
    })),
    projectDir: PROJECT,
    startFleetd: true,
  });
  await waitForMachines(c(), NAMES);
});

afterAll(async () => {
  units.remove();
  if (cluster && failed) {
    for (const m of cluster.machines.values()) {
      if (m.running()) console.log(`--- fleetd on ${m.name}\n${await fleetdLog(cluster, m.name)}`);
    }
  }
  await cluster?.teardown();
});

describe('seed 003 on real systemd machines', () => {
  it('list-machines -l shows every machine with its metadata', async () => {
    const out = await fleetctlOk(c(), ['list-machines', '-l']);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^MACHINE\t+IP\t+METADATA$/);
    for (const name of NAMES) {
      const m = c().machine(name);
      const row = lines.find((l) => l.startsWith(m.machineID));
      expect(row, `${name} listed`).toBeDefined();
      expect(row?.split(/\t+/)).toEqual([m.machineID, m.ip, name.startsWith('worker') ? 'role=worker' : '-']);
    }
  });

  it('start apache@1222 apache@1229 lands one instance on each worker, and each answers HTTP', async () => {
    try {
      expect((await fleetctl(c(), ['submit', 'apache@.service'], { cwd: units.dir })).code).toBe(0);
      const start = await fleetctl(c(), ['start', 'apache@1222', 'apache@1229'], { cwd: units.dir });
      expect(start.stderr).not.toMatch(/Error/);
      expect(start.code).toBe(0);
      expect(start.stdout).toMatch(/Unit apache@1222\.service launched on /);
      expect(start.stdout).toMatch(/Unit apache@1229\.service launched on /);

      const rows = (await listUnits(c())).filter((r) => r.unit.startsWith('apache@'));
      expect(rows.map((r) => [r.unit, r.active, r.sub])).toEqual([
        ['apache@1222.service', 'active', 'running'],
        ['apache@1229.service', 'active', 'running'],
      ]);
      const placed = rows.map((r) => machineByID(c(), r.machine?.id ?? ''));
      expect([...placed].sort()).toEqual(['worker1', 'worker2']);

      // systemd agrees: exactly that instance on each worker, none on the machine without the role.
      const running = await apacheByMachine();
      expect(running.get('ctl')).toEqual([]);
      for (const [i, row] of rows.entries()) {
        const name = placed[i] ?? '';
        expect(running.get(name)).toEqual([row.unit]);
        const port = Number(/@(\d+)\./.exec(row.unit)?.[1]);
        const body = await httpGet(c().machine(name).ip, port);
        expect(body.trim()).toBe(`hello from ${name} (apache@${port})`);
      }
    } catch (err) {
      failed = true;
      throw err;
    }
  });

  it('apache@1300 stays unscheduled while both workers are taken, then runs on a worker booted later', async () => {
    try {
      const r = await fleetctl(c(), ['start', '--no-block', 'apache@1300'], { cwd: units.dir });
      expect(r.code).toBe(0);
      // Several engine reconciles (2 s each by default) pass: still no machine may take it.
      for (let i = 0; i < 6; i++) {
        await sleep(1000);
        const file = (await listUnitFiles(c())).find((u) => u.unit === 'apache@1300.service');
        expect(file?.dstate).toBe('launched');
        expect(file?.tmachine).toBeNull();
        for (const [name, list] of await apacheByMachine()) {
          expect(list.length, `apache instances on ${name}`).toBeLessThanOrEqual(1);
          expect(list).not.toContain('apache@1300.service');
        }
      }
      expect((await listUnits(c())).map((u) => u.unit)).not.toContain('apache@1300.service');

      const w3 = await c().bootMachine({ name: 'worker3', metadata: { role: 'worker' }, startFleetd: true });
      const row = await until('apache@1300 active/running on worker3', 90_000, async () => {
        const u = (await listUnits(c())).find((x) => x.unit === 'apache@1300.service');
        return u?.active === 'active' && u.sub === 'running' ? u : undefined;
      });
      expect(row.machine?.id).toBe(w3.machineID);
      expect(row.machine?.ip).toBe(w3.ip);
      expect(await activeInMachine(c(), 'worker3', 'apache@*')).toEqual(['apache@1300.service']);
      expect((await httpGet(w3.ip, 1300)).trim()).toBe('hello from worker3 (apache@1300)');
      // The first two did not move.
      const running = await apacheByMachine();
      expect(running.get('ctl')).toEqual([]);
      expect([...(running.get('worker1') ?? []), ...(running.get('worker2') ?? [])].sort()).toEqual([
        'apache@1222.service',
        'apache@1229.service',
      ]);
    } catch (err) {
      failed = true;
      throw err;
    }
  });
});
