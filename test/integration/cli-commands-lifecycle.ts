// fleetctl unit lifecycle on a simulated cluster: submit, start, stop, unload, restart, --replace,
// --no-block, global units, destroy, with fleet's output lines and exit codes.
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CliSuite } from './cli-commands-suite.js';
import { M1 } from './cli-commands-suite.js';
import { eventually, fleetctlAt, unitDir } from './cli-helpers.js';

export function unitLifecycleTests(s: CliSuite): void {
  const { driver, fleetctl, expectGolden } = s;

  describe('unit lifecycle', () => {
    it('submit a template, then start three instances from it', async () => {
      const sub = await fleetctl('submit', 'hello@.service');
      expect(sub).toEqual({ code: 0, stdout: 'Unit hello@.service inactive\n', stderr: '' });
      expectGolden('list-unit-files-template.txt', (await fleetctl('list-unit-files')).stdout);

      const start = await fleetctl('start', 'hello@1.service', 'hello@2.service', 'hello@3.service');
      expect(start.code).toBe(0);
      const lines = start.stdout.trim().split('\n');
      expect(lines.slice(0, 3)).toEqual([
        'Unit hello@1.service inactive',
        'Unit hello@2.service inactive',
        'Unit hello@3.service inactive',
      ]);
      expect(lines.slice(3).sort()).toEqual([
        'Unit hello@1.service launched on 07d9057b.../127.0.0.11',
        'Unit hello@2.service launched on 21e51b3c.../127.0.0.12',
        'Unit hello@3.service launched on 6b1bc4a7.../127.0.0.13',
      ]);
      // start also waited for systemd: everything is active/running right away.
      expectGolden('list-units.txt', (await fleetctl('list-units')).stdout);
      expectGolden('list-units-full.txt', (await fleetctl('list-units', '--full')).stdout);
      expectGolden(
        'list-units-fields.txt',
        (await fleetctl('list-units', '--no-legend', '--fields', 'unit,hash,load,active,sub,machine')).stdout,
      );
      expectGolden('list-unit-files.txt', (await fleetctl('list-unit-files')).stdout);
      expectGolden('list-unit-files-full.txt', (await fleetctl('list-unit-files', '--full')).stdout);
      expectGolden(
        'list-unit-files-fields.txt',
        (await fleetctl('list-unit-files', '--fields', 'unit,desc,global,dstate')).stdout,
      );
      expectGolden('cat-hello@1.txt', (await fleetctl('cat', 'hello@1')).stdout);
    });

    it('list-units --output json', async () => {
      const r = await fleetctl('list-units', '--output=json', '--fields', 'unit,machine,hash,active');
      const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
      expect(rows[0]).toEqual({
        unit: 'hello@1.service',
        machine: { id: M1.id, ip: M1.publicIP },
        hash: 'dfbed83c8cfc7a781ea9650cc80707c05f5ff2bd',
        active: 'active',
      });
    });

    it('starting an unplaceable unit times out after --block-attempts with exit 1', async () => {
      const t = Date.now();
      const r = await fleetctl('start', '--block-attempts=1', 'hello@4.service');
      expect(Date.now() - t).toBeLessThan(10_000);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('Unit hello@4.service inactive\n');
      expect(r.stderr).toContain(
        'Error waiting for units: timed out waiting for unit hello@4.service to report state launched\n',
      );
    });

    it('stop, then unload: fleet’s lines; the freed slot lets hello@4 run', async () => {
      const stop = await fleetctl('stop', 'hello@1.service');
      expect(stop).toEqual({
        code: 0,
        stdout: 'Unit hello@1.service loaded on 07d9057b.../127.0.0.11\n',
        stderr: 'Successfully stopped units [hello@1.service].\n',
      });
      const lu = await fleetctl('list-units', '--no-legend');
      expect(lu.stdout).toContain('hello@1.service\t07d9057b.../127.0.0.11\tinactive\tdead\n');
      const unload = await fleetctl('unload', 'hello@1');
      expect(unload).toEqual({
        code: 0,
        stdout: 'Unit hello@1.service inactive\n',
        stderr: 'Successfully unloaded units [hello@1.service].\n',
      });
      await eventually('hello@4 launched', async () =>
        (await fleetctl('list-unit-files', '--no-legend')).stdout.includes(
          'hello@4.service\tdfbed83\tlaunched\tlaunched\t07d9057b',
        ),
      );
    });

    it('stop and unload process the known units, report each unknown one and exit 1', async () => {
      const stop = await fleetctl('stop', 'nothere.service', 'hello@3.service');
      expect(stop).toEqual({
        code: 1,
        stdout: 'Unit hello@3.service loaded on 6b1bc4a7.../127.0.0.13\n',
        stderr: 'Unit nothere.service not found\nSuccessfully stopped units [hello@3.service].\n',
      });
      const start = await fleetctl('start', 'hello@3.service');
      expect(start.code).toBe(0);
    });

    it('stop of an inactive unit fails with exit 1 and changes nothing', async () => {
      const r = await fleetctl('stop', 'hello@1.service', 'hello@2.service');
      expect(r).toEqual({
        code: 1,
        stdout: '',
        stderr: 'Unable to stop unit hello@1.service in state inactive\n',
      });
      expect((await fleetctl('list-unit-files', '--no-legend')).stdout).toContain(
        'hello@2.service\tdfbed83\tlaunched\tlaunched',
      );
    });

    it('load of a launched unit does not stop it (fleet did)', async () => {
      const r = await fleetctl('load', 'hello@2.service');
      expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
      expect((await fleetctl('list-units', '--no-legend')).stdout).toContain(
        'hello@2.service\t21e51b3c.../127.0.0.12\tactive\trunning',
      );
    });

    it('restart restarts the unit in place on its machine (systemctl restart), once per call', async () => {
      const m2 = s.target.cluster.machines[1];
      const before = m2?.systemd.restarts.get('hello@2.service') ?? 0;
      const r = await fleetctl('restart', 'hello@2.service');
      expect(r).toEqual({
        code: 0,
        stdout: 'Unit hello@2.service launched on 21e51b3c.../127.0.0.12\n',
        stderr: '',
      });
      expect(m2?.systemd.restarts.get('hello@2.service')).toBe(before + 1);
      expect(await fleetctl('restart', 'hello@2.service')).toMatchObject({ code: 0 });
      expect(m2?.systemd.restarts.get('hello@2.service')).toBe(before + 2);
      // No other machine restarted anything, and the unit did not move.
      for (const m of [s.target.cluster.machines[0], s.target.cluster.machines[2]])
        expect(m?.systemd.restarts.get('hello@2.service') ?? 0).toBe(0);
      const inactive = await fleetctl('restart', 'hello@1.service');
      expect(inactive.code).toBe(1);
      expect(inactive.stderr).toContain('Unable to restart unit hello@1.service in state inactive\n');
    });

    it('--no-block triggers and returns at once; the unit gets there anyway', async () => {
      const r = await fleetctl('start', '--no-block', 'web.service');
      expect(r).toEqual({ code: 0, stdout: 'Triggered unit web.service start\n', stderr: '' });
      await eventually('web running', async () =>
        /web\.service\t\S+\tactive\trunning/.test((await fleetctl('list-units', '--no-legend')).stdout),
      );
    });

    it('--replace: same contents is a no-op, different contents warn or replace', async () => {
      expect((await fleetctl('submit', '--replace', 'web.service')).stdout).toBe(
        'Found same Unit(web.service) in Registry, nothing to do\n',
      );
      const d = unitDir({ 'web.service': '[Service]\nExecStart=/bin/sleep 5\n' });
      try {
        const other = fleetctlAt(s.target.endpoint, d, {}, driver);
        const warn = await other('submit', 'web.service');
        expect(warn).toEqual({
          code: 0,
          stdout: '',
          stderr:
            'WARNING: Unit web.service in registry differs from local unit file web.service. Add --replace to override.\n',
        });
        const refused = await other('submit', '--replace', 'web.service');
        expect(refused.stderr).toBe(
          "Warning: can not replace Unit(web.service) in state 'launched', use the appropriate command\n",
        );
        const replaced = await other('start', '--replace', 'web.service');
        expect(replaced.code).toBe(0);
        expect((await other('cat', 'web')).stdout).toBe('[Service]\nExecStart=/bin/sleep 5\n');
      } finally {
        rmSync(d, { recursive: true, force: true });
      }
    });

    it('global units: fleet’s Triggered lines and target column', async () => {
      const r = await fleetctl('start', 'glob.service');
      expect(r).toEqual({
        code: 0,
        stdout: 'Unit glob.service inactive\nTriggered global unit glob.service start\n',
        stderr: '',
      });
      const luf = await fleetctl('list-unit-files', '--no-legend', '--fields', 'unit,state,target,global');
      const glob = luf.stdout.split('\n').find((l) => l.startsWith('glob.service'));
      expect(glob?.split(/\t+/)).toEqual(['glob.service', '-', 'global', 'true']);
      await eventually('glob on all machines', async () => {
        const rows = (await fleetctl('list-units', '--no-legend', '--fields', 'unit,active')).stdout;
        return rows.split('\n').filter((l) => l === 'glob.service\tactive').length === 3;
      });
    });

    it('restart of a global unit restarts it on every machine that runs it', async () => {
      const restarts = () =>
        s.target.cluster.machines.map((m) => m.systemd.restarts.get('glob.service') ?? 0);
      const before = restarts();
      const r = await fleetctl('restart', 'glob.service');
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      const lines = r.stdout.split('\n').filter((l) => l !== '');
      expect(lines[0]).toBe('Triggered global unit glob.service restart');
      expect(lines.slice(1).sort()).toEqual([
        'Unit glob.service restarted on 07d9057b.../127.0.0.11',
        'Unit glob.service restarted on 21e51b3c.../127.0.0.12',
        'Unit glob.service restarted on 6b1bc4a7.../127.0.0.13',
      ]);
      expect(restarts()).toEqual(before.map((n) => n + 1));
    });

    it('warns about unknown [X-Fleet] keys and honours MachineID', async () => {
      const r = await fleetctl('start', 'pinned');
      expect(r.code).toBe(0);
      expect(r.stderr).toBe(
        'WARNING: Unit pinned.service: unrecognized requirement in [X-Fleet] section: "Foo"\n',
      );
      expect(r.stdout).toBe(
        'Unit pinned.service inactive\nUnit pinned.service launched on 21e51b3c.../127.0.0.12\n',
      );
    });

    it('destroy waits until the agents unloaded the units; an unknown one is reported, exit 1', async () => {
      const r = await fleetctl('destroy', 'web.service', 'nothere.service', 'pinned.service', 'glob.service');
      expect(r).toEqual({
        code: 1,
        stdout: 'Destroyed web.service\nDestroyed pinned.service\nDestroyed glob.service\n',
        stderr: 'Unit nothere.service not found\n',
      });
      const lu = await fleetctl('list-units', '--no-legend', '--fields', 'unit');
      expect(lu.stdout).not.toMatch(/web|pinned|glob/);
      expect((await fleetctl('list-unit-files', '--no-legend', '--fields', 'unit')).stdout).not.toMatch(
        /web|pinned|glob/,
      );
      for (const verb of ['destroy', 'stop', 'unload']) {
        expect(await fleetctl(verb, 'nothere.service', 'nothere2')).toEqual({
          code: 1,
          stdout: '',
          stderr: 'Units not found in registry\n',
        });
      }
    });
  });
}
