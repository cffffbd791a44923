// fleetctl errors: one line on stderr, exit 1, nothing changed (unknown units, bad files and names,
// unknown commands, status/journal/ssh targets).

import { describe, expect, it } from 'vitest';
import type { CliSuite } from './cli-commands-suite.js';

export function errorTests(s: CliSuite): void {
  const { fleetctl } = s;

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
}
