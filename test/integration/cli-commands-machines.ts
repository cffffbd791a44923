// fleetctl list-machines on a simulated cluster: fleet's table, --full, --fields, --output json.

import { describe, expect, it } from 'vitest';
import { SIM_MACHINES } from '../support/sim-cluster.js';
import type { CliSuite } from './cli-commands-suite.js';
import { M1 } from './cli-commands-suite.js';

export function listMachinesTests(s: CliSuite): void {
  const { driver, fleetctl, expectGolden } = s;

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
}
