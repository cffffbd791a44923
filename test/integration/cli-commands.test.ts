// fleetctl end to end against a real etcd, the real engine and agents (in-memory systemd): exact
// output (golden files with real TABs), exit codes, blocking and --no-block. Every test runs with both
// drivers: --driver=etcd talks to etcd, --driver=api to fleetd's HTTP API (the real handler on a unix
// socket) over the same kind of cluster; both must give the same bytes, the golden files are shared.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiRegistry } from '../../api/route.js';
import { encodeRun, runKey } from '../../registry/runs.js';
import type { RunRecord } from '../../units/runs.js';
import { freePort } from '../support/etcd.js';
import { SIM_MACHINES } from '../support/sim-cluster.js';
import {
  type CliTarget,
  eventually,
  fleetctlAt,
  golden,
  type RunResult,
  startCliTarget,
  unitDir,
} from './cli-helpers.js';

const HELLO =
  '[Unit]\nDescription=Hello World %i\n\n[Service]\nExecStart=/bin/sh -c "while true; do echo Hello from %i on %H; sleep 5; done"\n\n[X-Fleet]\nConflicts=hello@*.service\n';
const [M1, M2] = SIM_MACHINES;

describe.each(['etcd', 'api'] as const)('fleetctl --driver=%s', (driver) => {
  let target: CliTarget;
  let dir: string;
  let fleetctl: (...args: string[]) => Promise<RunResult>;

  beforeAll(async () => {
    target = await startCliTarget(driver);
    dir = unitDir({
      'hello@.service': HELLO,
      'web.service': '[Unit]\nDescription=web\n\n[Service]\nExecStart=/bin/sleep infinity\n',
      'web2.service': '[Unit]\nDescription=web v2\n\n[Service]\nExecStart=/bin/sleep infinity\n',
      'broken.service': '[Unit]\nDescription=ok\n[Service\nExecStart=/bin/true\n',
      'glob.service': '[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nGlobal=true\n',
      'pinned.service': `[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nMachineID=${M2.id}\nFoo=bar\n`,
    });
    fleetctl = fleetctlAt(target.endpoint, dir, {}, driver);
  });

  afterAll(async () => {
    await target?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const expectGolden = (name: string, out: string) => {
    const g = golden(name, out);
    expect(g.actual).toBe(g.expected);
  };

  describe('list-machines', () => {
    it('prints fleet’s table, --full, -l/--l, --no-legend and --fields', async () => {
      const plain = await fleetctl('list-machines');
      expect(plain.code).toBe(0);
      expectGolden('list-machines.txt', plain.stdout);
      expectGolden('list-machines-full.txt', (await fleetctl('list-machines', '--full')).stdout);
      expect((await fleetctl('list-machines', '-l')).stdout).toBe(
        (await fleetctl('list-machines', '--full')).stdout,
      );
      expect((await fleetctl('list-machines', '--l')).stdout).toBe(
        (await fleetctl('list-machines', '--full')).stdout,
      );
      expectGolden(
        'list-machines-fields.txt',
        (await fleetctl('list-machines', '--no-legend', '--fields', 'ip,machine')).stdout,
      );
    });

    it('--fields shows state, version, leader, units and heartbeat (leader/units/heartbeat: etcd driver)', async () => {
      const out = await fleetctl(
        'list-machines',
        '-l',
        '--fields',
        'machine,ip,metadata,state,version,leader,units,heartbeat',
      );
      expect(out.code).toBe(0);
      const [head, ...rows] = out.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.split(/\t+/));
      expect(head).toEqual(['MACHINE', 'IP', 'METADATA', 'STATE', 'VERSION', 'LEADER', 'UNITS', 'HEARTBEAT']);
      expect(rows).toHaveLength(SIM_MACHINES.length);
      for (const r of rows) expect(r[3]).toBe('active');
      if (driver === 'etcd') {
        expect(rows.map((r) => r[4])).toEqual(rows.map(() => 'sim'));
        expect(rows.filter((r) => r[5] === 'true')).toHaveLength(1);
        for (const r of rows) {
          expect(r[6]).toMatch(/^\d+$/);
          expect(r[7]).toMatch(/^\d+s$/);
        }
      } else {
        // fleet's API carries no version, leader or heartbeat.
        for (const r of rows) expect(r.slice(4)).toEqual(['-', '-', '-', '-']);
      }
      const json = JSON.parse(
        (await fleetctl('list-machines', '--output', 'json', '--fields', 'machine,state,units')).stdout,
      );
      expect(json).toHaveLength(SIM_MACHINES.length);
      expect(json[0]).toEqual({
        machine: expect.any(String),
        state: 'active',
        units: driver === 'etcd' ? expect.any(Number) : null,
      });
    });

    it('rejects bad --fields with fleet’s message and exit 1', async () => {
      expect(await fleetctl('list-machines', '--fields', 'ip,bogus')).toEqual({
        code: 1,
        stdout: '',
        stderr: 'Invalid key in output format: "bogus"\n',
      });
      expect((await fleetctl('list-machines', '--fields=')).stderr).toBe('Must define output format\n');
    });

    it('--output json gives untruncated values', async () => {
      const r = await fleetctl('list-m', '--output', 'json');
      expect(r.code).toBe(0);
      const rows = JSON.parse(r.stdout) as Array<{
        machine: string;
        ip: string;
        metadata: Record<string, string>;
      }>;
      expect(rows.map((m) => m.machine)).toEqual(SIM_MACHINES.map((m) => m.id));
      expect(rows[0]).toEqual({ machine: M1.id, ip: M1.publicIP, metadata: { idx: '1', name: 'of1' } });
    });
  });

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
      const m2 = target.cluster.machines[1];
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
      for (const m of [target.cluster.machines[0], target.cluster.machines[2]])
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
        const other = fleetctlAt(target.endpoint, d, {}, driver);
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
      const restarts = () => target.cluster.machines.map((m) => m.systemd.restarts.get('glob.service') ?? 0);
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

  describe('errors: one line on stderr, exit 1, nothing changed', () => {
    it('unknown unit, missing template, template activation', async () => {
      expect(await fleetctl('cat', 'nothere')).toEqual({
        code: 1,
        stdout: '',
        stderr: 'Unit nothere.service not found\n',
      });
      expect(await fleetctl('start', 'nothere.service')).toEqual({
        code: 1,
        stdout: '',
        stderr: 'Error creating units: unable to find Unit(nothere.service) in Registry or on filesystem\n',
      });
      expect(await fleetctl('start', 'foo@1.service')).toEqual({
        code: 1,
        stdout: '',
        stderr:
          'Error creating units: unable to find template Unit(foo@.service) in Registry or on filesystem\n',
      });
      expect(await fleetctl('start', 'hello@.service')).toEqual({
        code: 1,
        stdout: '',
        stderr: 'Error starting units: cannot activate template "hello@.service"\n',
      });
    });

    it('a unit file that does not parse names the file and line', async () => {
      const r = await fleetctl('submit', 'broken.service');
      expect(r.code).toBe(1);
      expect(r.stderr.split('\n')).toHaveLength(2);
      expect(r.stderr).toMatch(/^Error creating units: cannot parse unit file broken\.service: line 3: /);
      expect((await fleetctl('cat', 'broken')).code).toBe(1);
    });

    it('a unit command without units exits 1 (fleet exited 0)', async () => {
      for (const verb of ['submit', 'load', 'start', 'stop', 'unload', 'destroy', 'restart']) {
        expect(await fleetctl(verb)).toEqual({ code: 1, stdout: '', stderr: 'No units given\n' });
      }
    });

    it('bad unit names', async () => {
      const r = await fleetctl('start', 'a..b.service');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^Error: invalid unit name "a\.\.b\.service": .*\n$/);
      expect((await fleetctl('cat', '..')).stderr).toMatch(/^Error: invalid unit name/);
    });

    it('unknown command, ambiguous prefix and bad flag exit 1 (fleet exited 0)', async () => {
      expect(await fleetctl('bogus-cmd')).toEqual({
        code: 1,
        stdout: '',
        stderr: 'Error: unknown command "bogus-cmd" for "fleetctl". Run \'fleetctl help\' for usage.\n',
      });
      const st = await fleetctl('st');
      expect(st.code).toBe(1);
      expect(st.stderr).toContain('unknown command "st"');
      const bad = await fleetctl('list-units', '--bogus');
      expect(bad.code).toBe(1);
      expect(bad.stderr).toBe("Error: unknown option '--bogus'. Run 'fleetctl help' for usage.\n");
      expect((await fleetctl('submit', '--sign', 'web.service')).code).toBe(1);
    });

    it('status, journal and ssh resolve their target first (fleet’s messages)', async () => {
      expect(await fleetctl('status', 'nothere')).toEqual({
        code: 1,
        stdout: '',
        stderr: 'Unit nothere.service does not exist.\n',
      });
      expect((await fleetctl('status', 'hello@1.service')).stderr).toBe(
        'Unit hello@1.service does not appear to be loaded.\n',
      );
      expect((await fleetctl('journal', 'hello@1.service')).stderr).toBe(
        'Unit hello@1.service does not appear to be running.\n',
      );
      expect((await fleetctl('journal', 'a', 'b')).stderr).toBe('One unit file must be provided.\n');
      expect((await fleetctl('ssh', '--machine', 'x', '--unit', 'y')).stderr).toBe(
        'Both machine and unit flags provided, please specify only one.\n',
      );
      expect((await fleetctl('ssh')).stderr).toBe(
        'Unable to proceed: one machine or unit must be provided\n',
      );
      expect((await fleetctl('ssh', 'zzzz')).stderr).toBe(
        'Unable to proceed: could not find matching unit or machine\n',
      );
      expect((await fleetctl('ssh', '--machine', 'zzzz')).stderr).toBe(
        'Unable to proceed: machine does not exist\n',
      );
    });

    it('verify is deprecated: exit 2', async () => {
      const r = await fleetctl('verify', 'x.service');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('Command "verify" is deprecated');
    });
  });

  describe('list-runs (cluster cron history)', () => {
    const TICKS = ['2025-01-01T00:00:00.000Z', '2025-01-01T00:01:00.000Z', '2025-01-01T00:02:00.000Z'];
    const RUNS: RunRecord[] = [
      {
        unit: 'nightly.service',
        tick: TICKS[0] as string,
        status: 'succeeded',
        machineID: M1.id,
        startedAt: '2025-01-01T00:00:00.120Z',
        endedAt: '2025-01-01T00:00:03.500Z',
        result: 'success',
        exitStatus: 0,
      },
      {
        unit: 'nightly.service',
        tick: TICKS[1] as string,
        status: 'failed',
        machineID: M2.id,
        startedAt: '2025-01-01T00:01:00.080Z',
        endedAt: '2025-01-01T00:01:01.000Z',
        result: 'exit-code',
        exitStatus: 3,
        reason: 'exit-code',
        late: true,
      },
      {
        unit: 'nightly.service',
        tick: TICKS[2] as string,
        status: 'skipped',
        reason: 'previous run still active',
      },
    ];

    beforeAll(async () => {
      const d = unitDir({ 'nightly.service': '[Service]\nType=oneshot\nExecStart=/bin/true\n' });
      try {
        expect((await fleetctlAt(target.endpoint, d, {}, driver)('submit', 'nightly.service')).code).toBe(0);
      } finally {
        rmSync(d, { recursive: true, force: true });
      }
      for (const r of RUNS) await target.cluster.ns.put(runKey(r.unit, r.tick)).value(encodeRun(r));
    });

    it('newest first, --lines, --no-legend; a known unit without runs has an empty table', async () => {
      const all = await fleetctl('list-runs', 'nightly');
      expect(all).toEqual({
        code: 0,
        stdout:
          'TICK\t\t\t\tMACHINE\t\t\t\t\tSTART\t\t\t\tEND\t\t\t\tRESULT\n' +
          `${TICKS[2]}\t-\t\t\t\t\t-\t\t\t\t-\t\t\t\tskipped: previous run still active\n` +
          `${TICKS[1]}\t${M2.id}\t2025-01-01T00:01:00.080Z\t2025-01-01T00:01:01.000Z\tfailed (exit 3) (late): exit-code\n` +
          `${TICKS[0]}\t${M1.id}\t2025-01-01T00:00:00.120Z\t2025-01-01T00:00:03.500Z\tsucceeded\n`,
        stderr: '',
      });
      const two = await fleetctl('list-runs', '--no-legend', '--lines', '2', 'nightly.service');
      expect(two.code).toBe(0);
      expect(two.stdout.split('\n').map((l) => l.split('\t')[0])).toEqual([TICKS[2], TICKS[1], '']);
      expect(await fleetctl('list-runs', '--no-legend', 'hello@2.service')).toEqual({
        code: 0,
        stdout: '',
        stderr: '',
      });
    });

    it('--output json: {unit, next, runs} with the records as stored, newest first', async () => {
      const r = await fleetctl('list-runs', '--output', 'json', 'nightly');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        unit: 'nightly.service',
        next: null, // not a scheduled unit: no next tick
        runs: [...RUNS].reverse(),
      });
      expect((await fleetctl('list-runs', '--output', 'yaml', 'nightly')).stderr).toBe(
        'Error: invalid --output "yaml": expected table or json\n',
      );
    });

    it('an unknown unit, no unit, a bad --lines: one line, exit 1', async () => {
      expect(await fleetctl('list-runs', 'nothere.service')).toEqual({
        code: 1,
        stdout: '',
        stderr: 'Unit nothere.service not found\n',
      });
      expect((await fleetctl('list-runs')).stderr).toBe('One unit file must be provided\n');
      expect(await fleetctl('list-runs', '--lines', '0', 'nightly')).toEqual({
        code: 1,
        stdout: '',
        stderr: 'Error: --lines must be at least 1\n',
      });
    });
  });

  if (driver === 'etcd') {
    describe('etcd unreachable', () => {
      it('unreachable etcd: which endpoint, why, after how long', async () => {
        const port = await freePort();
        const down = fleetctlAt(`http://127.0.0.1:${port}`, dir);
        const r = await down('--request-timeout=1', 'list-units');
        expect(r.code).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(
          new RegExp(
            `^Error: cannot reach etcd at http://127\\.0\\.0\\.1:${port}: .+ \\(after \\d+\\.\\ds\\)\\n$`,
          ),
        );
      });
    });
  } else {
    describe('API endpoint errors: fleet’s messages, one line, exit 1', () => {
      const withEndpoint = (endpoint: string) => fleetctlAt(endpoint, dir, {}, 'api');

      it('a missing slash after unix:, no scheme', async () => {
        expect(await withEndpoint('unix://var/run/fleet.sock')('list-units')).toEqual({
          code: 1,
          stdout: '',
          stderr: 'Unable to initialize client: unable to connect to host "var" with scheme "unix"\n',
        });
        expect(await withEndpoint('/var/run/fleet.sock')('list-units')).toEqual({
          code: 1,
          stdout: '',
          stderr: 'Unable to initialize client: URL scheme undefined\n',
        });
      });

      it('unreachable API: a dead unix socket, a TCP port nobody listens on', async () => {
        const sock = join(dir, 'no.sock');
        expect(await withEndpoint(`unix://${sock}`)('list-machines')).toEqual({
          code: 1,
          stdout: '',
          stderr: `Error: cannot reach the fleet API at unix://${sock}: ENOENT connect ENOENT ${sock}\n`,
        });
        const port = await freePort();
        const tcp = await withEndpoint(`http://127.0.0.1:${port}`)('--request-timeout=1', 'list-units');
        expect(tcp).toEqual({
          code: 1,
          stdout: '',
          stderr: `Error: cannot reach the fleet API at http://127.0.0.1:${port}: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:${port}\n`,
        });
      });

      it('list-runs against an API without run history says so and exits 1', async () => {
        const api = target.api;
        if (!api) throw new Error('the api target has no API server');
        const r = api.registry;
        const withoutRuns: ApiRegistry = {
          listUnits: () => r.listUnits(),
          getUnit: (name) => r.getUnit(name),
          listMachines: () => r.listMachines(),
          listUnitStates: () => r.listUnitStates(),
          createUnit: (spec, opts) => r.createUnit(spec, opts),
          setDesiredState: (name, state) => r.setDesiredState(name, state),
          destroyUnit: (name) => r.destroyUnit(name),
          setMachineMetadata: (m, k, v) => r.setMachineMetadata(m, k, v),
        };
        api.server.setRegistry(withoutRuns);
        try {
          const out = await fleetctl('list-runs', 'nightly.service');
          expect(out.code).toBe(1);
          expect(out.stdout).toBe('');
          expect(out.stderr).toBe(
            'Error: retrieving runs of nightly.service from fleet API: this fleet API does not serve run history (fleet-ts extension GET /fleet/v1/units/<name>/runs); use --driver=etcd\n',
          );
        } finally {
          api.server.setRegistry(r);
        }
        expect((await fleetctl('list-runs', '--no-legend', '--lines=1', 'nightly')).code).toBe(0);
      });
    });
  }
});
