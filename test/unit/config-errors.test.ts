// fleetd config refusals: a bad value or a broken config file is one line naming key, source and expectation.
import { describe, expect, it } from 'vitest';
import { resolveFleetdConfig } from '../../cli/fleetd/config.js';
import { conf, errorOf, resolve } from './config-fixtures.js';

describe('bad values: one line naming key, source and expectation', () => {
  it.each([
    [
      ['--agent_ttl=abc'],
      {},
      'invalid value "abc" for agent_ttl (flag --agent_ttl): expected a duration like 30s',
    ],
    [
      [],
      { FLEET_AGENT_TTL: 'abc' },
      'invalid value "abc" for agent_ttl (environment FLEET_AGENT_TTL): expected a duration like 30s',
    ],
    [
      ['--agent-ttl', '30'],
      {},
      'invalid value "30" for agent_ttl (flag --agent-ttl): expected a duration like 30s',
    ],
    [
      ['--agent_ttl=500ms'],
      {},
      'invalid value "500ms" for agent_ttl (flag --agent_ttl): expected a duration of at least 1s',
    ],
    [
      [],
      { FLEET_SYSTEMD_USER: 'yes' },
      'invalid value "yes" for systemd_user (environment FLEET_SYSTEMD_USER): expected true or false',
    ],
    [
      ['--disable_engine=on'],
      {},
      'invalid value "on" for disable_engine (flag --disable_engine): expected true or false',
    ],
    [
      [],
      { FLEET_ENABLE_GRPC: 'x' },
      'invalid value "x" for enable_grpc (environment FLEET_ENABLE_GRPC): expected true or false',
    ],
    [
      [],
      { FLEET_DISABLE_WATCHES: '' },
      'invalid value "" for disable_watches (environment FLEET_DISABLE_WATCHES): expected true or false',
    ],
    [
      ['-verbosity=high'],
      {},
      'invalid value "high" for verbosity (flag -verbosity): expected a whole number',
    ],
    [
      ['--token_limit=0'],
      {},
      'invalid value "0" for token_limit (flag --token_limit): expected a whole number of at least 1',
    ],
    [
      ['--etcd_max_txn_ops=1'],
      {},
      'invalid value "1" for etcd_max_txn_ops (flag --etcd_max_txn_ops): expected a whole number of at least 2',
    ],
    [
      [],
      { FLEET_ETCD_MAX_TXN_OPS: 'many' },
      'invalid value "many" for etcd_max_txn_ops (environment FLEET_ETCD_MAX_TXN_OPS): expected a whole number',
    ],
    [
      ['--token_limit=1.5'],
      {},
      'invalid value "1.5" for token_limit (flag --token_limit): expected a whole number',
    ],
    [
      ['--etcd_request_timeout=1s'],
      {},
      'invalid value "1s" for etcd_request_timeout (flag --etcd_request_timeout): expected a number',
    ],
    [
      ['--etcd_request_timeout=0'],
      {},
      'invalid value "0" for etcd_request_timeout (flag --etcd_request_timeout): expected a number of seconds greater than 0',
    ],
    [
      [],
      { FLEET_ENGINE_RECONCILE_INTERVAL: '-1' },
      'invalid value "-1" for engine_reconcile_interval (environment FLEET_ENGINE_RECONCILE_INTERVAL): expected a number of seconds greater than 0',
    ],
    [
      ['--etcd_servers=127.0.0.1:2379'],
      {},
      'invalid value "127.0.0.1:2379" for etcd_servers (flag --etcd_servers): expected a comma-separated list of etcd URLs',
    ],
    [
      ['--etcd_key_prefix='],
      {},
      'invalid value "" for etcd_key_prefix (flag --etcd_key_prefix): expected a key prefix',
    ],
    [
      ['--public_ip=10.0.0'],
      {},
      'invalid value "10.0.0" for public_ip (flag --public_ip): expected an IPv4 or IPv6 address',
    ],
    [
      ['--units_directory=run/units'],
      {},
      'invalid value "run/units" for units_directory (flag --units_directory): expected an absolute path',
    ],
    [
      ['--unit_watch_directory=units'],
      {},
      'invalid value "units" for unit_watch_directory (flag --unit_watch_directory): expected an absolute path or nothing',
    ],
    [
      ['--api_listen=54728'],
      {},
      'invalid value "54728" for api_listen (flag --api_listen): expected host:port',
    ],
    [
      ['--api_listen=127.0.0.1:70000'],
      {},
      'invalid value "127.0.0.1:70000" for api_listen (flag --api_listen): expected host:port',
    ],
    [
      ['--api_socket=fleet.sock'],
      {},
      'invalid value "fleet.sock" for api_socket (flag --api_socket): expected an absolute path or nothing',
    ],
  ] as const)('%j %j', (argv, env, message) => {
    const err = errorOf(() => resolve([...argv], env));
    expect(err.message.startsWith(message), err.message).toBe(true);
    expect(err.message).not.toContain('\n');
  });

  it('names the file for a bad file value', () => {
    const err = errorOf(() => resolve([], {}, conf('agent_ttl=forever')));
    expect(err.message).toBe(
      'invalid value "forever" for agent_ttl (file /etc/fleet/fleet.conf): expected a duration like 30s, 1m30s or 500ms',
    );
    const err2 = errorOf(() => resolve(['--config=/x.conf'], {}, { '/x.conf': 'token_limit=lots' }));
    expect(err2.message).toBe('invalid value "lots" for token_limit (file /x.conf): expected a whole number');
  });

  it('rejects a TLS certificate without key, and the reverse', () => {
    expect(errorOf(() => resolve(['--api_tls_cert=/c.pem'])).message).toBe(
      'api_tls_cert and api_tls_key must be set together',
    );
    expect(errorOf(() => resolve(['--api_tls_key=/k.pem'])).message).toBe(
      'api_tls_cert and api_tls_key must be set together',
    );
  });
});

describe('config file problems', () => {
  it('a missing default file is fine', () => {
    expect(resolve([], {}, {}).config.configFile).toBeNull();
  });
  it('a missing --config file is fatal', () => {
    expect(errorOf(() => resolve(['--config', '/nope.conf'])).message).toBe(
      'unable to use config file /nope.conf: no such file',
    );
  });
  it('an unreadable file is fatal, default or explicit', () => {
    const readFile = (): string | null => {
      throw new Error('permission denied');
    };
    for (const argv of [[], ['--config=/etc/x.conf']]) {
      const err = errorOf(() => resolveFleetdConfig({ argv, env: {}, readFile }));
      expect(err.message).toMatch(
        /^unable to use config file \/etc\/(fleet\/fleet|x)\.conf: permission denied$/,
      );
    }
  });
  it('a syntax error names file and line', () => {
    expect(errorOf(() => resolve([], {}, conf('agent_ttl=30s\nthis is not ini\n'))).message).toBe(
      'unable to use config file /etc/fleet/fleet.conf: syntax error at line 2: expected key=value, [section] or a # comment',
    );
  });
});
