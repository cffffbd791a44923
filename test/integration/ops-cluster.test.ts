// Operators, end to end over real etcd, the real engine and agents (in-memory systemd), both drivers:
// why a unit waits (reasons in list-unit-files, status, the waiting line and the API), and drain/undrain.
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
const [M1, M2] = SIM_MACHINES;

describe.each(['etcd', 'api'] as const)('operators --driver=%s', (driver) => {
  let target: CliTarget;
  let dir: string;
  let fleetctl: (...args: string[]) => Promise<RunResult>;

  beforeAll(async () => {
    target = await startCliTarget(driver);
    dir = unitDir({
      'db.service': svc('MachineMetadata=role=db'),
      'web@.service': svc('Conflicts=web@*.service'),
      'app.service': svc(`MachineID=${M1.id}`),
      'side.service': svc('MachineOf=app.service'),
      'any.service': svc(),
    });
    fleetctl = fleetctlAt(target.endpoint, dir, {}, driver);
  });

  afterAll(async () => {
    await target?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const unitFiles = async (): Promise<Record<string, { reason: string | null; target: unknown }>> => {
    const r = await fleetctl('list-unit-files', '--output', 'json', '--fields', 'unit,reason,target');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { unit: string; reason: string | null; target: unknown }[];
    return Object.fromEntries(rows.map((x) => [x.unit, { reason: x.reason, target: x.target }]));
  };

  it('says why a unit cannot be placed: list-unit-files, status, the waiting line', async () => {
    const start = await fleetctl('start', '--block-attempts=2', 'db.service');
    expect(start.code).toBe(1);
    expect(start.stderr).toContain('db.service (inactive: 3 machines: 3 lack role=db)');
    const files = await eventually('a reason', async () => (await unitFiles())['db.service']?.reason);
    expect(files).toBe('3 machines: 3 lack role=db');
    const table = await fleetctl('list-unit-files', '--no-legend', '--fields', 'unit,reason');
    expect(table.stdout).toBe('db.service\t3 machines: 3 lack role=db\n');
    expect(await fleetctl('status', 'db.service')).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'Unit db.service does not appear to be loaded.\nUnit db.service cannot be placed: 3 machines: 3 lack role=db\n',
    });
    // Conflicts: four instances on three machines, the fourth says which unit blocks it where.
    expect((await fleetctl('start', '--no-block', 'web@1', 'web@2', 'web@3', 'web@4')).code).toBe(0);
    const web4 = await eventually('web@4 reason', async () => (await unitFiles())['web@4.service']?.reason);
    expect(web4).toMatch(
      /^3 machines: 1 runs web@\d.service which conflicts, 1 runs web@\d.service which conflicts, 1 runs web@\d.service which conflicts$/,
    );
    // Once a machine can take it, the reason goes away.
    expect((await fleetctl('destroy', 'web@1')).code).toBe(0);
    await eventually('web@4 placed', async () => {
      const u = (await unitFiles())['web@4.service'];
      return u?.reason === null && u.target !== null;
    });
    expect((await fleetctl('destroy', 'web@2', 'web@3', 'web@4', 'db.service')).code).toBe(0);
  });

  it('drain moves units off a machine one at a time, keeps what cannot move, undrain restores', async () => {
    expect((await fleetctl('start', '--no-block', 'app.service', 'side.service', 'any.service')).code).toBe(
      0,
    );
    await eventually('placed', async () => {
      const f = await unitFiles();
      return ['app.service', 'side.service', 'any.service'].every((u) => f[u]?.target) || undefined;
    });
    // Put any.service on M1 too: drain M1 must move it, and cannot move app (MachineID) nor side (its peer).
    const before = await unitFiles();
    const onM1 = (f: typeof before, u: string) => (f[u]?.target as { id?: string } | null)?.id === M1.id;
    expect(onM1(before, 'app.service') && onM1(before, 'side.service')).toBe(true);

    const drain = await fleetctl('drain', M1.id.slice(0, 8));
    expect(drain.stdout).toContain(`Machine ${M1.id} drained`);
    expect(drain.stdout).toContain(
      `Unit app.service stays on machine ${M1.id}: stays on drained Machine(${M1.id}): 2 other machines: 2 do not match MachineID=${M1.id}`,
    );
    expect(drain.stdout).toMatch(
      /Unit side.service stays on machine \w+: stays on drained Machine\(\w+\): 2 other machines: 2 do not run peer app.service/,
    );
    expect(drain.code).toBe(2);
    const after = await unitFiles();
    expect(onM1(after, 'any.service')).toBe(false);
    expect(after['any.service']?.target).not.toBeNull();

    const machines = await fleetctl('list-machines', '--no-legend', '--fields', 'machine,state', '-l');
    expect(machines.stdout).toBe(
      SIM_MACHINES.map((m) => `${m.id}\t${m.id === M1.id ? 'drained' : 'active'}\n`).join(''),
    );
    // Nothing new lands on a drained machine.
    expect((await fleetctl('start', '--no-block', 'web@7')).code).toBe(0);
    const w7 = await eventually('web@7 placed', async () => (await unitFiles())['web@7.service']?.target);
    expect((w7 as { id: string }).id).not.toBe(M1.id);

    expect(await fleetctl('undrain', M1.id)).toEqual({
      code: 0,
      stdout: `Machine ${M1.id} undrained: it takes new units again\n`,
      stderr: '',
    });
    expect(
      (await fleetctl('list-machines', '--no-legend', '--fields', 'machine,state')).stdout,
    ).not.toContain('drained');
    await eventually('stuck reasons cleared', async () => {
      const f = await unitFiles();
      return (f['app.service']?.reason === null && f['side.service']?.reason === null) || undefined;
    });
    expect((await fleetctl('drain', 'zzzz')).stderr).toBe('Machine zzzz does not exist.\n');
    expect((await fleetctl('drain')).stderr).toBe('One machine ID must be provided.\n');
    expect(M2).toBeDefined();
  });
});
