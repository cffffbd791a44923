// fleetctl's first contact: help for every command (description and example), the FLEETCTL_*
// variables in the root help, `help <unknown>` as an error, --debug accepted but not advertised.
import { describe, expect, it } from 'vitest';
import { COMMAND_HELP } from '../../cli/fleetctl/help-text.js';
import { commandNames, main } from '../../cli/fleetctl/program.js';
import { unitModel } from '../../cli/fleetctl/unit-model.js';

async function fleetctl(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: (t: string) => {
      stdout += t;
    },
    stderr: (t: string) => {
      stderr += t;
    },
    env: {},
    cwd: '/',
    readLocalFile: () => null,
    sleep: async () => {},
  };
  const code = await main(argv, io, {
    model: unitModel,
    driver: {
      openEtcd: () => Promise.reject(new Error('no etcd in this test')),
      openTunnel: () => Promise.reject(new Error('no tunnel in this test')),
    },
  });
  return { code, stdout, stderr };
}

describe('fleetctl help', () => {
  const commands = commandNames().filter((c) => c !== 'help');

  it.each(commands)('help %s has a description paragraph and an example', async (name) => {
    const r = await fleetctl(['help', name]);
    expect(r.code).toBe(0);
    const help = COMMAND_HELP[name];
    expect(help, `COMMAND_HELP has no entry for ${name}`).toBeDefined();
    expect(r.stdout).toContain(`DESCRIPTION:\n\t${help?.description}\n`);
    expect(r.stdout).toContain(`EXAMPLE:\n\t${help?.example}\n`);
    expect(help?.example.startsWith('fleetctl ')).toBe(true);
    expect(help?.example).toContain(` ${name}`);
  });

  it('help <unknown> exits 1 with one line on stderr', async () => {
    expect(await fleetctl(['help', 'nosuch'])).toEqual({
      code: 1,
      stdout: '',
      stderr: `Error: unknown command "nosuch" for "fleetctl help". Run 'fleetctl help' for usage.\n`,
    });
  });

  it('the root help lists the FLEETCTL_* variables and no --debug', async () => {
    const r = await fleetctl(['--help']);
    expect(r.code).toBe(0);
    for (const v of [
      'FLEETCTL_ENDPOINT',
      'FLEETCTL_DRIVER',
      'FLEETCTL_SSH_USERNAME',
      'FLEETCTL_TUNNEL',
      'FLEETCTL_API_TOKEN',
    ])
      expect(r.stdout).toMatch(new RegExp(`^\\t${v}\\t`, 'm'));
    expect(r.stdout).not.toContain('--debug');
    // Still accepted, as fleet scripts pass it.
    expect((await fleetctl(['--debug', 'version'])).code).toBe(0);
  });
});
