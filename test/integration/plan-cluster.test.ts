// `fleetctl plan` and `sync --dry-run` placements over real etcd, the real engine and agents (in-memory
// systemd), both drivers: where units would go, what Replaces would move, why a unit cannot be placed,
// the exit codes, and that nothing is written.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIM_MACHINES } from '../support/sim-cluster.js';
import {
  type CliTarget,
  eventually,
  fleetctlAt,
  type RunResult,
  startCliTarget,
  unitDir,
} from './cli-helpers.js';

const svc = (xfleet = ''): string => `[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\n${xfleet}\n`;
const [M1, M2, M3] = SIM_MACHINES;
const at = (m: { id: string; publicIP: string }): string => `${m.id}/${m.publicIP}`;
/** Table rows as cells (the TAB padding is tabwriter's business, tested elsewhere). */
const cells = (out: string): string[][] =>
  out
    .trim()
    .split('\n')
    .map((l) => l.split(/\t+/));

describe.each(['etcd', 'api'] as const)('plan --driver=%s', (driver) => {
  let target: CliTarget;
  let dir: string;
  let fleetctl: (...args: string[]) => Promise<RunResult>;

  beforeAll(async () => {
    target = await startCliTarget(driver);
    dir = unitDir({
      // old.service lands on M1 (all machines empty: lowest ID); new.service can run on M1 only.
      'old.service': svc(),
      'new.service': svc('MachineMetadata=idx=1\nReplaces=old.service'),
      'db.service': svc('MachineMetadata=role=db'),
      'any.service': svc(),
      'g.service': svc('Global=true\nMachineMetadata=idx=1\nMachineMetadata=idx=3'),
      'web@.service': svc('Conflicts=web@*.service'),
    });
    fleetctl = fleetctlAt(target.endpoint, dir, {}, driver);
    expect((await fleetctl('start', '--no-block', 'old.service')).code).toBe(0);
    await eventually('old.service placed', async () => {
      const r = await fleetctl('list-unit-files', '--no-legend', '-l', '--fields', 'unit,target');
      return r.stdout === `old.service\t${at(M1)}\n`;
    });
  });

  afterAll(async () => {
    await target?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows placements and what Replaces moves, exit 0, and writes nothing', async () => {
    const r = await fleetctl('plan', '-l', 'new.service', 'any.service', 'g.service');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(cells(r.stdout)).toEqual([
      ['UNIT', 'CHANGE', 'MACHINE', 'REASON'],
      ['any.service', 'place', at(M2), 'least-loaded machine able to run it'],
      ['g.service', 'place', at(M1), 'global: every machine able to run it'],
      ['g.service', 'place', at(M3), 'global: every machine able to run it'],
      ['new.service', 'place', at(M1), 'least-loaded machine with idx=1'],
      ['old.service', 'move', `${at(M1)} -> ${at(M2)}`, 'replaced by Unit(new.service)'],
    ]);
    // Nothing was submitted or moved.
    const files = await fleetctl('list-unit-files', '--no-legend', '-l', '--fields', 'unit,target');
    expect(files.stdout).toBe(`old.service\t${at(M1)}\n`);
  });

  it('says why a unit cannot be placed (exit 2), also as JSON', async () => {
    const r = await fleetctl('plan', '--no-legend', 'db.service', 'web@1', 'web@2', 'web@3', 'web@4');
    expect(r.code).toBe(2);
    const rows = cells(r.stdout);
    expect(rows[0]).toEqual(['db.service', 'unplaced', '-', '3 machines: 3 lack role=db']);
    expect(rows.filter((l) => /^web@\d\.service$/.test(l[0] ?? '') && l[1] === 'place')).toHaveLength(3);
    expect(rows[4]?.join(' ')).toMatch(
      /^web@4\.service unplaced - 3 machines: 1 runs web@\d\.service which conflicts, 1 runs web@\d\.service which conflicts, 1 runs web@\d\.service which conflicts$/,
    );
    const json = await fleetctl('plan', '--output', 'json', 'db.service');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual([
      {
        unit: 'db.service',
        change: 'unplaced',
        machine: null,
        from: null,
        reason: '3 machines: 3 lack role=db',
        proposed: true,
        pending: false,
      },
    ]);
  });

  it('sees drained machines and rejects bad input with one line (exit 1)', async () => {
    expect((await fleetctl('drain', '--no-block', M2.id)).code).toBe(0);
    try {
      const r = await fleetctl('plan', '--no-legend', '-l', 'any.service');
      expect(cells(r.stdout)).toEqual([
        ['any.service', 'place', at(M3), 'least-loaded machine able to run it'],
      ]);
    } finally {
      expect((await fleetctl('undrain', M2.id)).code).toBe(0);
    }
    expect(await fleetctl('plan', 'missing.service')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: unable to find Unit(missing.service) on filesystem\n',
    });
    expect((await fleetctl('plan')).code).toBe(1);
    expect((await fleetctl('plan', '--output', 'yaml', 'any.service')).stderr).toBe(
      'Error: invalid --output "yaml": expected table or json\n',
    );
  });

  it('sync --dry-run prints the actions, then the placements, and writes nothing', async () => {
    const syncDir = unitDir({ 'db.service': svc('MachineMetadata=role=db'), 'any.service': svc() });
    try {
      const r = await fleetctl('sync', '--dry-run', syncDir);
      const [actions, table] = r.stdout.split('\n\n');
      expect(actions).toBe(
        'submit+start any.service (new file any.service)\nsubmit+start db.service (new file db.service)',
      );
      expect(cells(table ?? '')).toEqual([
        ['UNIT', 'CHANGE', 'MACHINE', 'REASON'],
        ['any.service', 'place', '21e51b3c.../127.0.0.12', 'least-loaded machine able to run it'],
        ['db.service', 'unplaced', '-', '3 machines: 3 lack role=db'],
      ]);
      expect(r.code).toBe(2);
      const files = await fleetctl('list-unit-files', '--no-legend', '--fields', 'unit');
      expect(files.stdout).toBe('old.service\n');
    } finally {
      rmSync(syncDir, { recursive: true, force: true });
    }
  });
});
