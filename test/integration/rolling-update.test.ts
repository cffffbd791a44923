// fleetctl rolling-update against a real etcd, the real engine and agents (systemd simulated): the
// agents run the units' HealthCheck= commands for real (`/bin/sh -c` on this host), reading marker
// files the test controls. Both drivers read the health results.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEtcdRegistry } from '../../registry/etcd-registry.js';
import type { Registry } from '../../registry/types.js';
import { SIM_PREFIX } from '../support/sim-cluster.js';
import { type CliTarget, fleetctlAt, startCliTarget } from './cli-helpers.js';

const INSTANCES = ['web@1.service', 'web@2.service', 'web@3.service'];

const template = (version: string, marker: string | null) =>
  [
    '[Unit]',
    `Description=web ${version}`,
    '',
    '[Service]',
    `ExecStart=/bin/sleep 100000 ${version}`,
    '',
    '[X-Fleet]',
    'Conflicts=web@*',
    ...(marker ? [`HealthCheck=test -e ${marker}/%i.ok`, 'HealthCheckIntervalSec=200ms'] : []),
    '',
  ].join('\n');

let target: CliTarget;
let registry: Registry;
let dir: string;
let markers: string;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const hashes = async () =>
  new Map((await registry.listUnits()).filter((u) => u.name !== 'web@.service').map((u) => [u.name, u.hash]));

beforeAll(async () => {
  target = await startCliTarget('api');
  registry = openEtcdRegistry({
    endpoints: [target.cluster.endpoint],
    keyPrefix: SIM_PREFIX,
    requestTimeoutMs: 5000,
  });
  dir = mkdtempSync(join(tmpdir(), 'fleet-ts-roll-'));
  markers = mkdtempSync(join(tmpdir(), 'fleet-ts-roll-health-'));
  for (const i of [1, 2, 3]) writeFileSync(join(markers, `${i}.ok`), '');
  writeFileSync(join(dir, 'web@.service'), template('v1', null));
  const fleetctl = fleetctlAt(target.cluster.endpoint, dir);
  const r = await fleetctl('start', ...INSTANCES);
  expect(r.code, r.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  await registry?.close();
  await target?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (markers) rmSync(markers, { recursive: true, force: true });
});

describe('fleetctl rolling-update', () => {
  it('--dry-run lists the instances in order and writes nothing', async () => {
    writeFileSync(join(dir, 'web@.service'), template('v2', markers));
    const before = await hashes();
    const r = await fleetctlAt(target.cluster.endpoint, dir)('rolling-update', '--dry-run', 'web@.service');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^Would roll web@\.service to [0-9a-f]{7} on 3 instance\(s\): max-parallel 1, min-healthy-time 10s/,
    );
    expect(lines[0]).toContain(`health check: test -e ${markers}/%i.ok`);
    expect(lines.slice(1).map((l) => l.split(' ')[1])).toEqual(INSTANCES);
    expect(await hashes()).toEqual(before);
  });

  it('replaces one instance at a time (--driver=api), each healthy for min-healthy-time; both drivers read health', async () => {
    writeFileSync(join(dir, 'web@.service'), template('v2', markers));
    // Through fleetd's HTTP API (the failing update below goes through etcd).
    const r = await fleetctlAt(
      target.endpoint,
      dir,
      {},
      'api',
    )('rolling-update', '--min-healthy-time=1s', 'web@.service');
    expect(r.code, r.stderr).toBe(0);
    const v2 = [...(await hashes()).values()];
    expect(new Set(v2).size).toBe(1);
    // Progress: every instance is updated before the next one is replaced.
    const events = r.stdout
      .split('\n')
      .map((l) => /\] (web@\d\.service): (replacing|updated)/.exec(l))
      .filter((m) => m !== null)
      .map((m) => `${m[2]} ${m[1]}`);
    expect(events).toEqual(INSTANCES.flatMap((u) => [`replacing ${u}`, `updated ${u}`]));
    expect(r.stdout).toMatch(/Rolled web@\.service to [0-9a-f]{7}: 3 instance\(s\) updated in /);
    // The agents' health results, through etcd and through the API.
    for (const [driver, endpoint] of [
      ['etcd', target.cluster.endpoint],
      ['api', target.endpoint],
    ] as const) {
      const list = await fleetctlAt(
        endpoint,
        dir,
        {},
        driver,
      )('list-units', '--no-legend', '--fields=unit,health');
      expect(
        list.stdout
          .trim()
          .split('\n')
          .map((l) => l.split('\t').filter(Boolean).join(' ')),
      ).toEqual(INSTANCES.map((u) => `${u} healthy`));
    }
    const again = await fleetctlAt(target.cluster.endpoint, dir)('rolling-update', 'web@.service');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already runs');
  }, 90_000);

  it('a health check that never passes stops after the first instance and rolls it back (exit 1)', async () => {
    const before = await hashes();
    writeFileSync(join(dir, 'web@.service'), template('v3', join(markers, 'missing')));
    const r = await fleetctlAt(target.cluster.endpoint, dir)(
      'rolling-update',
      '--min-healthy-time=1s',
      '--healthy-deadline=3s',
      'web@.service',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^Error: rolling update of web@\.service stopped: web@1\.service was not healthy for 1s within 3s of its replacement \(active, health check failing: exit 1\); 0 updated, 1 rolled back, 2 not replaced/,
    );
    expect(r.stdout).toContain('web@1.service: rolled back to');
    expect(r.stdout).not.toContain('web@2.service: replacing');
    expect(await hashes()).toEqual(before);
    // The rolled-back instance runs its previous contents again and is healthy.
    await waitFor('web@1 healthy on its previous contents', async () => {
      const s = (await registry.listUnitStates()).find((x) => x.unit === 'web@1.service');
      return s?.hash === before.get('web@1.service') && s?.health?.status === 'healthy' ? true : undefined;
    });
  }, 90_000);

  it('a marker removed on one machine makes its instance unhealthy in list-units, with the reason', async () => {
    rmSync(join(markers, '2.ok'));
    await waitFor('web@2 unhealthy', async () => {
      const s = (await registry.listUnitStates()).find((x) => x.unit === 'web@2.service');
      return s?.health?.status === 'unhealthy' ? true : undefined;
    });
    const list = await fleetctlAt(target.endpoint, dir, {}, 'api')(
      'list-units',
      '--no-legend',
      '-l',
      '--fields=unit,health',
    );
    expect(list.stdout).toContain('web@2.service\tunhealthy: exit 1');
    writeFileSync(join(markers, '2.ok'), '');
    expect(existsSync(join(markers, '2.ok'))).toBe(true);
  });

  it('rejects bad flags and non-templates with one line', async () => {
    const f = fleetctlAt(target.cluster.endpoint, dir);
    for (const [args, msg] of [
      [['rolling-update', '--max-parallel=0', 'web@.service'], 'invalid value "0" for --max-parallel'],
      [
        ['rolling-update', '--min-healthy-time=soon', 'web@.service'],
        'invalid value "soon" for --min-healthy-time',
      ],
      [['rolling-update', 'web@1.service'], 'web@1.service is not a template'],
      [['rolling-update', 'nothere@.service'], 'unable to find template file'],
      [['rolling-update'], 'one template file must be given'],
    ] as const) {
      const r = await f(...args);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(msg);
    }
  });
});
