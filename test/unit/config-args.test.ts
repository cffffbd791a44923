import { describe, expect, it } from 'vitest';
import { resolveFleetdConfig } from '../../cli/fleetd/config.js';
import { fleetdUsage, parseFleetdArgs } from '../../cli/fleetd/config-args.js';
import { ConfigError } from '../../cli/fleetd/config-keys.js';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('fleetd command line', () => {
  it('nothing means run with the default config file', () => {
    expect(parseFleetdArgs([])).toEqual({ kind: 'run', configPath: null, flags: [] });
  });

  it.each([['--version'], ['-version'], ['version'], ['--version=true'], ['--agent_ttl=5s', 'version']])(
    '%j asks for the version',
    (...argv) => {
      expect(parseFleetdArgs(argv)).toEqual({ kind: 'version' });
    },
  );

  it('version wins without reading any config', () => {
    const readFile = (): string | null => {
      throw new Error('must not be read');
    };
    expect(resolveFleetdConfig({ argv: ['--version'], env: { FLEET_AGENT_TTL: 'bad' }, readFile })).toEqual({
      kind: 'version',
    });
  });

  it.each([['-h'], ['--help'], ['-help']])('%s prints usage listing every key', (arg) => {
    const r = parseFleetdArgs([arg]);
    expect(r.kind).toBe('help');
    if (r.kind === 'help') {
      expect(r.usage).toBe(fleetdUsage());
      expect(r.usage).toContain('agent_ttl');
      expect(r.usage).toContain('api_listen');
    }
  });

  it('reads --config in both forms', () => {
    expect(parseFleetdArgs(['--config', '/a.conf'])).toMatchObject({ configPath: '/a.conf' });
    expect(parseFleetdArgs(['-config=/b.conf'])).toMatchObject({ configPath: '/b.conf' });
  });

  it('keeps the spelling of each flag for messages', () => {
    expect(parseFleetdArgs(['-agent_ttl', '5s', '--etcd-servers=http://a:1', '--systemd_user'])).toEqual({
      kind: 'run',
      configPath: null,
      flags: [
        { key: 'agent_ttl', value: '5s', flag: '-agent_ttl' },
        { key: 'etcd_servers', value: 'http://a:1', flag: '--etcd-servers' },
        { key: 'systemd_user', value: 'true', flag: '--systemd_user' },
      ],
    });
  });

  it('a flag value may start with a dash or contain =', () => {
    expect(parseFleetdArgs(['--metadata', 'a=b=c'])).toMatchObject({
      flags: [{ key: 'metadata', value: 'a=b=c' }],
    });
    expect(parseFleetdArgs(['--api_token', '-x-'])).toMatchObject({
      flags: [{ key: 'api_token', value: '-x-' }],
    });
  });

  it.each([
    [['start'], 'fleetd takes no arguments. Did you mean to invoke fleetctl instead?'],
    [['--agent_ttl=5s', 'list-units'], 'fleetd takes no arguments. Did you mean to invoke fleetctl instead?'],
    [['--', 'version2'], 'fleetd takes no arguments. Did you mean to invoke fleetctl instead?'],
    // Go bool flags never take the next argument, so "false" is a stray positional argument.
    [['--disable_engine', 'false'], 'fleetd takes no arguments. Did you mean to invoke fleetctl instead?'],
    [['--no-such-flag'], 'flag provided but not defined: --no-such-flag (see fleetd --help)'],
    [['-x=1'], 'flag provided but not defined: -x (see fleetd --help)'],
    [['--agent_ttl'], 'flag needs an argument: --agent_ttl'],
    [['--config'], 'flag needs an argument: --config'],
    [['---agent_ttl=1s'], 'bad flag syntax: ---agent_ttl=1s'],
    [['--=x'], 'bad flag syntax: --=x'],
    [
      ['--version=maybe'],
      'invalid value "maybe" for version (flag --version): expected true or false (also 1, t, T, TRUE, True, 0, f, F, FALSE, False)',
    ],
  ] as const)('%j fails with %j', (argv, message) => {
    expect(errorOf(() => parseFleetdArgs(argv))).toBe(message);
  });

  it('parsing stops at -- and at the first non-flag', () => {
    expect(parseFleetdArgs(['--agent_ttl=5s', '--'])).toMatchObject({
      kind: 'run',
      flags: [{ key: 'agent_ttl' }],
    });
    expect(parseFleetdArgs(['--', 'version'])).toEqual({ kind: 'version' });
  });
});
