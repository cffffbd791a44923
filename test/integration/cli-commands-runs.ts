// fleetctl list-runs (cluster cron history): table, --lines, --output json, and its errors.
import { rmSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeRun, runKey } from '../../registry/runs.js';
import type { RunRecord } from '../../units/runs.js';
import type { CliSuite } from './cli-commands-suite.js';
import { M1, M2 } from './cli-commands-suite.js';
import { fleetctlAt, unitDir } from './cli-helpers.js';

export function listRunsTests(s: CliSuite): void {
  const { driver, fleetctl } = s;

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
        expect((await fleetctlAt(s.target.endpoint, d, {}, driver)('submit', 'nightly.service')).code).toBe(
          0,
        );
      } finally {
        rmSync(d, { recursive: true, force: true });
      }
      for (const r of RUNS) await s.target.cluster.ns.put(runKey(r.unit, r.tick)).value(encodeRun(r));
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
}
