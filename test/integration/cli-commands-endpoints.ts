// fleetctl with an endpoint it cannot use: etcd unreachable (etcd driver); fleet's API endpoint errors
// and an API without run history (api driver).

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiRegistry } from '../../api/route.js';
import { freePort } from '../support/etcd.js';
import type { CliSuite } from './cli-commands-suite.js';
import { fleetctlAt } from './cli-helpers.js';

export function endpointErrorTests(s: CliSuite): void {
  const { driver, fleetctl } = s;

  if (driver === 'etcd') {
    describe('etcd unreachable', () => {
      it('unreachable etcd: which endpoint, why, after how long', async () => {
        const port = await freePort();
        const down = fleetctlAt(`http://127.0.0.1:${port}`, s.dir);
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
      const withEndpoint = (endpoint: string) => fleetctlAt(endpoint, s.dir, {}, 'api');

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
        const sock = join(s.dir, 'no.sock');
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
        const api = s.target.api;
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
}
