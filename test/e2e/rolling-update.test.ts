// Issue 18 item 4 on real systemd machines: the agent runs a unit's [X-Fleet] HealthCheck= inside its
// machine and reports the result (list-units --fields health); `fleetctl rolling-update` replaces the
// instances of a replicated template one at a time without ever having fewer than 2 of 3 active
// (sampled every second in the machines' systemd), and a new version whose health check fails stops
// after the first instance, which is rolled back and runs its previous contents again.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureBuilt,
  fleetctl,
  fleetctlOk,
  isActive,
  machineNamed,
  PROJECT,
  until,
} from '../support/fleet-e2e.js';
import { type Cluster, createCluster, type MachineSpec } from '../support/nspawn.js';

const FLEET_CONF = { agent_ttl: '5s' };
const MACHINES: MachineSpec[] = ['roll1', 'roll2', 'roll3'].map((name) => ({
  name,
  metadata: { role: 'worker' },
  fleetConf: FLEET_CONF,
}));
const INSTANCES = ['rweb@1.service', 'rweb@2.service', 'rweb@3.service'];

/** A replicated service: writes its version where the check (and the test) can read it. */
const template = (version: string, check = 'test -e /run/rweb.ok && grep -qx VERSION /run/rweb-%i.version') =>
  [
    '[Unit]',
    `Description=rolling web ${version}`,
    '',
    '[Service]',
    `Environment=VERSION=${version}`,
    "ExecStart=/bin/sh -c 'echo $VERSION > /run/rweb-%i.version; exec sleep infinity'",
    '',
    '[X-Fleet]',
    'Conflicts=rweb@*',
    'MachineMetadata=role=worker',
    `HealthCheck=${check.replace('VERSION', version)}`,
    'HealthCheckIntervalSec=1s',
    '',
  ].join('\n');

let cluster: Cluster | undefined;
let dir = '';

function c(): Cluster {
  if (!cluster) throw new Error('cluster did not boot');
  return cluster;
}

/** Unit -> machine name, from list-unit-files. */
async function placements(): Promise<Map<string, string>> {
  const out = await fleetctlOk(c(), ['list-unit-files', '--full', '--no-legend', '--fields=unit,tmachine']);
  const m = new Map<string, string>();
  for (const l of out.split('\n')) {
    const [unit = '', target = ''] = l.split('\t').filter((f) => f !== '');
    if (unit.startsWith('rweb@') && unit !== 'rweb@.service' && target !== '-')
      m.set(unit, machineNamed(c(), target.split('/')[0] ?? ''));
  }
  return m;
}

async function healthRows(): Promise<Map<string, string>> {
  const out = await fleetctlOk(c(), ['list-units', '--no-legend', '-l', '--fields=unit,active,health']);
  const m = new Map<string, string>();
  for (const l of out.split('\n')) {
    const [unit = '', active = '', ...health] = l.split('\t').filter((f) => f !== '');
    if (unit) m.set(unit, `${active} ${health.join(' ')}`);
  }
  return m;
}

async function hashes(): Promise<Map<string, string>> {
  const out = await fleetctlOk(c(), ['list-unit-files', '--full', '--no-legend', '--fields=unit,hash']);
  return new Map(
    out
      .split('\n')
      .map((l) => l.split('\t').filter((f) => f !== ''))
      .filter(([u]) => u && INSTANCES.includes(u))
      .map(([u = '', h = '']) => [u, h]),
  );
}

/** Samples, every second, how many instances systemd reports active in their machines. */
function sampleActive(where: ReadonlyMap<string, string>): { stop: () => Promise<number[]> } {
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      const states = await Promise.all(INSTANCES.map((u) => isActive(c(), where.get(u) ?? '', u)));
      samples.push(states.filter((s) => s === 'active').length);
      await sleep(Math.max(0, 1000 - (Date.now() - at)));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'fleet-ts-e2e-roll-'));
  cluster = await createCluster({ machines: MACHINES, projectDir: PROJECT, startFleetd: true });
  await until('3 machines in list-machines', 120_000, async () => {
    const out = await fleetctlOk(c(), ['list-machines', '--no-legend']);
    return out.split('\n').filter((l) => l.trim()).length === 3 ? true : undefined;
  });
  for (const m of MACHINES) await c().execOk(m.name, ['touch', '/run/rweb.ok']);
  writeFileSync(join(dir, 'rweb@.service'), template('v1'));
  await fleetctlOk(c(), ['start', ...INSTANCES.map((u) => join(dir, u))], { timeoutMs: 180_000 });
});

afterAll(async () => {
  await cluster?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('health checks and rolling updates on real machines', () => {
  it('the agent runs HealthCheck= inside the unit machine and reports it; a failing check shows why', async () => {
    await until('every instance healthy in list-units', 60_000, async () => {
      const rows = await healthRows();
      return INSTANCES.every((u) => rows.get(u) === 'active healthy') ? true : undefined;
    });
    const where = await placements();
    const m2 = where.get('rweb@2.service') ?? '';
    await c().execOk(m2, ['rm', '/run/rweb.ok']);
    await until('rweb@2 unhealthy', 30_000, async () =>
      (await healthRows()).get('rweb@2.service') === 'active unhealthy: exit 1' ? true : undefined,
    );
    expect(await isActive(c(), m2, 'rweb@2.service')).toBe('active');
    await c().execOk(m2, ['touch', '/run/rweb.ok']);
    await until('rweb@2 healthy again', 30_000, async () =>
      (await healthRows()).get('rweb@2.service') === 'active healthy' ? true : undefined,
    );
  });

  it('rolls a new version one instance at a time; at least 2 of 3 stay active throughout', async () => {
    writeFileSync(join(dir, 'rweb@.service'), template('v2'));
    // A rolling update replaces contents in place: every instance stays on its machine.
    const where = await placements();
    const sampler = sampleActive(where);
    const started = Date.now();
    const r = await fleetctl(c(), ['rolling-update', '--min-healthy-time=3s', join(dir, 'rweb@.service')], {
      timeoutMs: 300_000,
    });
    const took = Date.now() - started;
    const samples = await sampler.stop();
    expect(r.code, r.stderr).toBe(0);
    console.log(
      `rolling-update of 3 instances took ${(took / 1000).toFixed(1)} s; active instances sampled each second: min ${Math.min(...samples)} over ${samples.length} samples\n${r.stdout}`,
    );
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(2);
    expect(r.stdout).toMatch(/Rolled rweb@\.service to [0-9a-f]{7}: 3 instance\(s\) updated in/);
    // Every instance runs v2 (the process wrote it), on the machine it ran on before.
    expect(await placements()).toEqual(where);
    for (const u of INSTANCES) {
      const m = where.get(u) ?? '';
      const i = u.slice('rweb@'.length, -'.service'.length);
      expect((await c().execOk(m, ['cat', `/run/rweb-${i}.version`])).trim()).toBe('v2');
    }
    expect(new Set((await hashes()).values()).size).toBe(1);
  });

  it('a version whose health check fails stops after the first instance and is rolled back (exit 1)', async () => {
    const before = await hashes();
    writeFileSync(join(dir, 'rweb@.service'), template('v3', 'test -e /run/rweb.never'));
    const r = await fleetctl(
      c(),
      ['rolling-update', '--min-healthy-time=3s', '--healthy-deadline=20s', join(dir, 'rweb@.service')],
      { timeoutMs: 300_000 },
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^Error: rolling update of rweb@\.service stopped: rweb@1\.service was not healthy for 3s within 20s of its replacement \(active, health check failing: exit 1\); 0 updated, 1 rolled back, 2 not replaced/,
    );
    expect(r.stdout).toMatch(/rweb@1\.service: rolled back to [0-9a-f]{7}, active again/);
    expect(r.stdout).not.toContain('rweb@2.service: replacing');
    expect(await hashes()).toEqual(before);
    const where = await placements();
    await until('rweb@1 runs v2 again and is healthy', 60_000, async () => {
      const m = where.get('rweb@1.service') ?? '';
      const version = (await c().exec(m, ['cat', '/run/rweb-1.version'])).stdout.trim();
      return version === 'v2' && (await healthRows()).get('rweb@1.service') === 'active healthy'
        ? true
        : undefined;
    });
  });
});
