// `fleetctl sync DIR [--dry-run]`: the real fleetctl entry in-process against a simulated cluster.
import { rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdRegistryOn } from '../../registry/etcd-registry.js';
import type { Registry } from '../../registry/types.js';
import { type SimCluster, startSimCluster } from '../support/sim-cluster.js';
import { eventually, fleetctlAt, type RunResult, unitDir } from './cli-helpers.js';

const unitText = (what: string) =>
  `[Unit]\nDescription=${what}\n\n[Service]\nExecStart=/bin/sleep infinity\n`;

let cluster: SimCluster;
let registry: Registry;
let dir: string;
let fleetctl: (...args: string[]) => Promise<RunResult>;

beforeAll(async () => {
  cluster = await startSimCluster({ machines: 2 });
  registry = etcdRegistryOn(cluster.ns);
  dir = unitDir({
    'sync-a.service': unitText('a'),
    'sync-w@.service': unitText('w %i'),
    'sync-b.service.loaded': unitText('b'),
  });
  symlinkSync('sync-w@.service', join(dir, 'sync-w@1.service'));
  fleetctl = fleetctlAt(cluster.endpoint, dir);
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const mine = async () =>
  (await registry.listUnits())
    .filter((u) => u.origin === `watch:${dir}`)
    .map((u) => `${u.name} ${u.desiredState}`);

describe('fleetctl sync', () => {
  it('--dry-run prints the plan, one line per unit, and changes nothing', async () => {
    const r = await fleetctl('sync', '--dry-run', '.');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const [actions, placements] = r.stdout.split('\n\n');
    expect(actions).toBe(
      [
        'submit+start sync-a.service (new file sync-a.service)',
        'submit+load sync-b.service (new file sync-b.service.loaded)',
        'submit+start sync-w@1.service (new file sync-w@1.service)',
      ].join('\n'),
    );
    // Then where they would run, as `fleetctl plan` prints it (test/integration/plan-cluster.test.ts).
    expect(placements?.split('\n').map((l) => l.split(/\t+/).slice(0, 2))).toEqual([
      ['UNIT', 'CHANGE'],
      ['sync-a.service', 'place'],
      ['sync-b.service', 'place'],
      ['sync-w@1.service', 'place'],
      [''],
    ]);
    expect(await mine()).toEqual([]);
  });

  it('applies the plan once, then has nothing left to do', async () => {
    const r = await fleetctl('sync', dir);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
    expect(await mine()).toEqual([
      'sync-a.service launched',
      'sync-b.service loaded',
      'sync-w@1.service launched',
    ]);
    await eventually('sync-a running', async () =>
      cluster.machines.some((m) => m.systemd.isRunning('sync-a.service')),
    );
    expect(await fleetctl('sync', '--dry-run', dir)).toMatchObject({ code: 0, stdout: 'nothing to do\n' });
  });

  it('prints replace and destroy, and reports an invalid file with its line (exit 1, rest applied)', async () => {
    writeFileSync(join(dir, 'sync-a.service'), unitText('a2'));
    unlinkSync(join(dir, 'sync-b.service.loaded'));
    writeFileSync(join(dir, 'sync-bad.service'), '[Unit]\nDescription=x\nno equals sign\n');
    const dry = await fleetctl('sync', '--dry-run', dir);
    expect(dry.stdout).toMatch(
      /^destroy sync-b\.service \(its file is gone\)\nreplace sync-a\.service \(sync-a\.service changed; [0-9a-f]{7} -> [0-9a-f]{7}\)\n\nUNIT\t+CHANGE\t+MACHINE\t+REASON\nsync-a\.service\t+keep\t+\w+\.\.\.\/127\.0\.0\.1\d\t+already runs there\nsync-b\.service\t+stop\t+\w+\.\.\.\/127\.0\.0\.1\d -> -\t+unit destroyed\n$/,
    );
    expect(dry.stderr).toMatch(/^sync-bad\.service: line 3: .*not submitted until fixed\n$/);
    expect(dry.code).toBe(1);

    const r = await fleetctl('sync', dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/sync-bad\.service: line 3/);
    expect(await mine()).toEqual(['sync-a.service launched', 'sync-w@1.service launched']);
  });

  it('refuses a missing directory without touching the units', async () => {
    const r = await fleetctl('sync', join(dir, 'nope'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: unit directory .*nope: cannot list: ENOENT\n$/);
    const none = await fleetctl('sync');
    expect(none).toMatchObject({
      code: 1,
      stderr: 'Error: one directory must be provided: fleetctl sync DIR\n',
    });
  });
});
