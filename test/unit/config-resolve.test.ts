import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  etcdOptionsFromConfig,
  loadFleetdConfig,
  logLevelFromConfig,
  type ResolveInput,
  resolveFleetdConfig,
} from '../../cli/fleetd/config.js';
import {
  ConfigError,
  DEFAULT_CONFIG_FILE,
  FLEETD_CONFIG_KEYS,
  type FleetdConfig,
} from '../../cli/fleetd/config-keys.js';
import { defaultCaFile } from '../../registry/client.js';

/** Resolves with an in-memory file system; `files` maps path -> contents. */
function resolve(
  argv: string[] = [],
  env: Record<string, string | undefined> = {},
  files: Record<string, string> = {},
): { config: FleetdConfig; warnings: readonly string[] } {
  const input: ResolveInput = { argv, env, readFile: (p) => files[p] ?? null };
  const r = resolveFleetdConfig(input);
  if (r.kind !== 'run') throw new Error(`expected run, got ${r.kind}`);
  return r;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const conf = (text: string): Record<string, string> => ({ [DEFAULT_CONFIG_FILE]: text });

/** An api_token long enough to be accepted (16+ bytes). */
const TOKEN = 'token-0123456789abcdef';

describe('defaults', () => {
  it('match fleet 1.0 plus the fleet-ts keys', () => {
    const { config, warnings } = resolve();
    expect(config).toEqual({
      verbosity: 0,
      etcdServers: ['http://127.0.0.1:2379', 'http://127.0.0.1:4001'],
      etcdUsername: '',
      etcdPassword: '',
      etcdKeyPrefix: '/_coreos.com/fleet/',
      etcdKeyFile: '',
      etcdCertFile: '',
      etcdCaFile: '',
      etcdRequestTimeoutMs: 1000,
      engineReconcileIntervalMs: 2000,
      etcdMaxTxnOps: 128,
      publicIP: '',
      metadata: {},
      agentTtlMs: 30_000,
      unitsDirectory: '/run/fleet/units/',
      systemdUser: false,
      tokenLimit: 100,
      enableGrpc: false,
      disableEngine: false,
      disableWatches: false,
      unitWatchDirectory: '',
      apiListen: '',
      metricsListen: '',
      apiToken: '',
      apiTlsCert: '',
      apiTlsKey: '',
      apiTlsClientCa: '',
      apiSocket: '/var/run/fleet.sock',
      apiInsecureUnauthenticatedTcp: false,
      configFile: null,
    });
    expect(warnings).toEqual([]);
  });
  it('lists every key, fleet first', () => {
    expect(FLEETD_CONFIG_KEYS.slice(0, 3)).toEqual(['verbosity', 'etcd_servers', 'etcd_username']);
    expect(FLEETD_CONFIG_KEYS).toHaveLength(31);
  });
});

describe('precedence: defaults < file < environment < flags', () => {
  const file = conf(
    ['agent_ttl=40s', 'metadata="role=file"', 'etcd_servers=http://file:2379', 'disable_engine=true'].join(
      '\n',
    ),
  );

  it('the default config file overrides defaults', () => {
    const { config } = resolve([], {}, file);
    expect(config.agentTtlMs).toBe(40_000);
    expect(config.metadata).toEqual({ role: 'file' });
    expect(config.etcdServers).toEqual(['http://file:2379']);
    expect(config.disableEngine).toBe(true);
    expect(config.configFile).toBe(DEFAULT_CONFIG_FILE);
  });

  it('the environment overrides the file', () => {
    const env = { FLEET_AGENT_TTL: '50s', FLEET_METADATA: 'role=env', FLEET_DISABLE_ENGINE: 'false' };
    const { config } = resolve([], env, file);
    expect(config.agentTtlMs).toBe(50_000);
    expect(config.metadata).toEqual({ role: 'env' });
    expect(config.disableEngine).toBe(false);
    expect(config.etcdServers).toEqual(['http://file:2379']);
  });

  it('flags override the environment, in every spelling', () => {
    const env = { FLEET_AGENT_TTL: '50s', FLEET_METADATA: 'role=env', FLEET_ETCD_SERVERS: 'http://env:2379' };
    const { config } = resolve(
      ['-agent_ttl=60s', '--metadata', 'role=flag', '--etcd-servers=http://flag:2379', '--disable_engine=0'],
      env,
      file,
    );
    expect(config.agentTtlMs).toBe(60_000);
    expect(config.metadata).toEqual({ role: 'flag' });
    expect(config.etcdServers).toEqual(['http://flag:2379']);
    expect(config.disableEngine).toBe(false);
  });

  it('an empty environment variable still counts as set (os.LookupEnv)', () => {
    const { config } = resolve([], { FLEET_METADATA: '' }, file);
    expect(config.metadata).toEqual({});
  });

  it('the last of repeated flags wins', () => {
    expect(resolve(['--token_limit=5', '--token-limit', '7']).config.tokenLimit).toBe(7);
  });

  it('only the winning value is validated', () => {
    const { config } = resolve([], { FLEET_AGENT_TTL: '10s' }, conf('agent_ttl=garbage'));
    expect(config.agentTtlMs).toBe(10_000);
  });

  it('--config replaces the default file', () => {
    const files = { ...file, '/srv/of1.conf': 'public_ip=127.0.0.11\n' };
    const { config } = resolve(['--config', '/srv/of1.conf'], {}, files);
    expect(config.publicIP).toBe('127.0.0.11');
    expect(config.agentTtlMs).toBe(30_000);
    expect(config.configFile).toBe('/srv/of1.conf');
  });
});

describe('the config file of the fleet 1.0 test bed', () => {
  it('is read as fleet read it', () => {
    const text = 'etcd_servers=["http://127.0.0.1:24790"]\npublic_ip=127.0.0.12\nmetadata="name=of2,idx=2"\n';
    const { config, warnings } = resolve(['-config', '/c/of2.conf'], {}, { '/c/of2.conf': text });
    expect(config.etcdServers).toEqual(['http://127.0.0.1:24790']);
    expect(config.publicIP).toBe('127.0.0.12');
    expect(config.metadata).toEqual({ name: 'of2', idx: '2' });
    expect(warnings).toEqual([]);
  });
  it('the commented-out sample values parse to the defaults', () => {
    const sample = [
      'verbosity=0',
      'etcd_servers=["http://127.0.0.1:2379", "http://127.0.0.1:4001"]',
      'etcd_request_timeout=1.0',
      'public_ip=""',
      'metadata=""',
      'agent_ttl="30s"',
      'engine_reconcile_interval=2',
      'etcd_max_txn_ops=128',
    ].join('\n');
    expect(resolve([], {}, conf(sample)).config).toEqual({
      ...resolve().config,
      configFile: DEFAULT_CONFIG_FILE,
    });
  });
});

describe('values', () => {
  it('converts seconds and durations to ms', () => {
    const { config } = resolve([
      '--etcd_request_timeout=0.25',
      '--engine_reconcile_interval=5',
      '--agent_ttl=1m30s',
    ]);
    expect(config.etcdRequestTimeoutMs).toBe(250);
    expect(config.engineReconcileIntervalMs).toBe(5000);
    expect(config.agentTtlMs).toBe(90_000);
  });
  it('takes Go boolean spellings; a bare boolean flag means true', () => {
    expect(resolve(['--systemd_user']).config.systemdUser).toBe(true);
    expect(resolve(['--disable-watches=T']).config.disableWatches).toBe(true);
    expect(resolve([], { FLEET_DISABLE_WATCHES: 'TRUE' }).config.disableWatches).toBe(true);
    expect(resolve([], {}, conf('systemd_user=1')).config.systemdUser).toBe(true);
    expect(resolve([], {}, conf('systemd_user=False')).config.systemdUser).toBe(false);
  });
  it('takes the engine transaction size from every source (etcd_max_txn_ops)', () => {
    expect(resolve(['--etcd_max_txn_ops=1024']).config.etcdMaxTxnOps).toBe(1024);
    expect(resolve(['--etcd-max-txn-ops', '512']).config.etcdMaxTxnOps).toBe(512);
    expect(resolve([], { FLEET_ETCD_MAX_TXN_OPS: '256' }).config.etcdMaxTxnOps).toBe(256);
    expect(resolve([], {}, conf('etcd_max_txn_ops=2048')).config.etcdMaxTxnOps).toBe(2048);
  });
  it('normalises the key prefix to a directory', () => {
    expect(resolve(['--etcd_key_prefix=/other']).config.etcdKeyPrefix).toBe('/other/');
  });
  it('reads file keys case-insensitively and with dashes', () => {
    const { config } = resolve([], {}, conf('AGENT_TTL=5s\ntoken-limit=3'));
    expect(config.agentTtlMs).toBe(5000);
    expect(config.tokenLimit).toBe(3);
  });
  it('accepts listen addresses of every form', () => {
    for (const a of ['127.0.0.1:54728', ':54728', '[::1]:1', 'localhost:65535']) {
      expect(resolve(['--api_listen', a, '--api_insecure_unauthenticated_tcp=true']).config.apiListen).toBe(
        a,
      );
    }
  });
});

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

describe('warnings', () => {
  it('for unknown keys in the file and unknown FLEET_ variables', () => {
    const { warnings } = resolve(
      [],
      {
        FLEET_AGENTTTL: '1s',
        FLEET_LOG_LEVEL: 'debug',
        FLEET_TEST_ETCD: '/x',
        FLEETCTL_ENDPOINT: 'x',
        PATH: '/bin',
      },
      conf('agent_ttl=30s\nagentttl=1s\n'),
    );
    expect(warnings).toEqual([
      'unknown key "agentttl" in file /etc/fleet/fleet.conf line 2 - ignoring',
      'unknown environment variable FLEET_AGENTTTL - ignoring',
    ]);
  });
  it('for sections, which fleet never read', () => {
    const { config, warnings } = resolve([], {}, conf('[fleet]\nagent_ttl=5s\n'));
    expect(config.agentTtlMs).toBe(30_000);
    expect(warnings).toEqual([
      'section [fleet] in file /etc/fleet/fleet.conf is ignored: fleetd reads only keys before any section',
    ]);
  });
  it('for deprecated keys, as fleet logged them', () => {
    const { warnings } = resolve(
      [],
      { FLEET_VERIFY_UNITS: 'true' },
      conf('authorized_keys_file=/root/.ssh/a\n'),
    );
    expect(warnings).toEqual([
      'Config option verify_units is no longer supported - ignoring',
      'Config option authorized_keys_file is no longer supported - ignoring',
    ]);
    expect(resolve(['--verify_units=false']).warnings).toEqual([]);
  });
  it('for enable_grpc, which is accepted and ignored', () => {
    const { config, warnings } = resolve(['--enable_grpc']);
    expect(config.enableGrpc).toBe(true);
    expect(warnings).toEqual([
      'Config option enable_grpc is accepted but ignored: fleet-ts agents always use etcd',
    ]);
  });
  it('for metadata pairs that are not key=value', () => {
    const { config, warnings } = resolve(['--metadata=a=1,oops']);
    expect(config.metadata).toEqual({ a: '1' });
    expect(warnings).toEqual(['metadata entry "oops" is not key=value - ignoring']);
  });
  it('for an API reachable from other hosts without authentication, only when explicitly allowed', () => {
    expect(
      resolve(['--api_listen=0.0.0.0:54728', '--api_insecure_unauthenticated_tcp=true']).warnings,
    ).toEqual([
      'api_listen 0.0.0.0:54728 is reachable from other hosts without api_token or api_tls_client_ca: anyone who can connect controls the cluster',
    ]);
    expect(resolve(['--api_listen=127.0.0.1:54728'], { FLEET_API_TOKEN: TOKEN }).warnings).toEqual([]);
    expect(resolve(['--api_listen=[::1]:54728'], { FLEET_API_TOKEN: TOKEN }).warnings).toEqual([]);
  });
  it('for API settings without api_listen', () => {
    expect(resolve([], { FLEET_API_TOKEN: TOKEN }).warnings).toEqual([
      'api_token is set but api_listen is not - api_token has no effect',
    ]);
  });
});

describe('API authentication is checked at config time (issue 14)', () => {
  const refused = (argv: string[]) => () => resolve(argv);
  it('an unauthenticated TCP listener is refused, loopback included, unless the insecure key is set', () => {
    for (const listen of ['0.0.0.0:54728', '127.0.0.1:54728', ':54728']) {
      expect(refused([`--api_listen=${listen}`])).toThrow(
        `api_listen ${listen} needs api_token or api_tls_client_ca (with api_tls_cert and api_tls_key): refusing to serve the API over TCP without authentication (api_insecure_unauthenticated_tcp=true overrides)`,
      );
    }
    expect(
      resolve(['--api_listen=127.0.0.1:1', '--api_insecure_unauthenticated_tcp=true']).config
        .apiInsecureUnauthenticatedTcp,
    ).toBe(true);
  });
  it('a token on plain http to a non-loopback address is refused; with TLS or on loopback it is fine', () => {
    for (const listen of ['0.0.0.0:54728', ':54728', '10.0.0.5:1', '[2001:db8::1]:1']) {
      expect(refused([`--api_listen=${listen}`, `--api_token=${TOKEN}`])).toThrow(
        `api_listen ${listen} would receive api_token in clear text from other hosts: set api_tls_cert and api_tls_key, or listen on loopback`,
      );
    }
    expect(resolve(['--api_listen=localhost:1'], { FLEET_API_TOKEN: TOKEN }).warnings).toEqual([]);
    expect(
      resolve([
        '--api_listen=0.0.0.0:1',
        `--api_token=${TOKEN}`,
        '--api_tls_cert=/c.pem',
        '--api_tls_key=/k.pem',
      ]).config.apiToken,
    ).toBe(TOKEN);
  });
  it('etcd_certfile and etcd_keyfile are given together or not at all', () => {
    expect(refused(['--etcd_certfile=/c.pem'])).toThrow(
      'etcd_certfile and etcd_keyfile must be set together',
    );
    expect(refused(['--etcd_keyfile=/k.pem'])).toThrow('etcd_certfile and etcd_keyfile must be set together');
    expect(resolve(['--etcd_certfile=/c.pem', '--etcd_keyfile=/k.pem']).config.etcdKeyFile).toBe('/k.pem');
  });
  it('the default CA bundle follows the OS (Debian, then RHEL)', () => {
    expect(defaultCaFile((p) => p === '/etc/pki/tls/certs/ca-bundle.crt')).toBe(
      '/etc/pki/tls/certs/ca-bundle.crt',
    );
    expect(defaultCaFile(() => true)).toBe('/etc/ssl/certs/ca-certificates.crt');
  });
  it('tokens shorter than 16 bytes are refused', () => {
    expect(refused(['--api_token=s3cret'])).toThrow(
      'api_token is 6 bytes; it must be at least 16 (e.g. openssl rand -hex 32)',
    );
    expect(resolve(['--api_token=0123456789abcdef']).config.apiToken).toBe('0123456789abcdef');
  });
});

describe('derived settings', () => {
  it('etcd options carry only what is set', () => {
    expect(etcdOptionsFromConfig(resolve().config)).toEqual({
      endpoints: ['http://127.0.0.1:2379', 'http://127.0.0.1:4001'],
      keyPrefix: '/_coreos.com/fleet/',
      requestTimeoutMs: 1000,
    });
    const { config } = resolve([
      '--etcd_servers=https://e:2379',
      '--etcd_cafile=/ca.pem',
      '--etcd_certfile=/c.pem',
      '--etcd_keyfile=/k.pem',
      '--etcd_username=root',
      '--etcd_password=pw',
      '--etcd_request_timeout=2.5',
    ]);
    expect(etcdOptionsFromConfig(config)).toEqual({
      endpoints: ['https://e:2379'],
      keyPrefix: '/_coreos.com/fleet/',
      requestTimeoutMs: 2500,
      caFile: '/ca.pem',
      certFile: '/c.pem',
      keyFile: '/k.pem',
      username: 'root',
      password: 'pw',
    });
  });
  it('verbosity above 0 means debug logs', () => {
    expect(logLevelFromConfig(resolve().config)).toBeUndefined();
    expect(logLevelFromConfig(resolve(['--verbosity=2']).config)).toBe('debug');
  });
});

describe('loadFleetdConfig on real files', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-config-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads --config from disk', () => {
    const path = join(dir, 'fleet.conf');
    writeFileSync(path, 'agent_ttl=12s\nmetadata="az=1"\n');
    const r = loadFleetdConfig(['--config', path], {});
    expect(r.kind).toBe('run');
    if (r.kind !== 'run') return;
    expect(r.config.agentTtlMs).toBe(12_000);
    expect(r.config.metadata).toEqual({ az: '1' });
    expect(r.config.configFile).toBe(path);
  });
  it('fails on a missing --config and on a directory', () => {
    expect(errorOf(() => loadFleetdConfig(['--config', join(dir, 'none.conf')], {})).message).toBe(
      `unable to use config file ${join(dir, 'none.conf')}: no such file`,
    );
    expect(errorOf(() => loadFleetdConfig([`--config=${dir}`], {})).message).toBe(
      `unable to use config file ${dir}: it is a directory, not a file`,
    );
  });
});

describe('secrets other local users can read (issue 14 item 7)', () => {
  it('a secret given as a flag is warned about (visible in ps); the same secret from the environment is not', () => {
    expect(
      resolve(['--api_listen=127.0.0.1:1', `--api_token=${TOKEN}`, '--etcd_password=pw']).warnings,
    ).toEqual([
      'api_token was given as the command-line flag --api_token: every local user can read it (ps, /proc/<pid>/cmdline); put it in fleet.conf (mode 0600) or FLEET_API_TOKEN in a root-only EnvironmentFile',
      'etcd_password was given as the command-line flag --etcd_password: every local user can read it (ps, /proc/<pid>/cmdline); put it in fleet.conf (mode 0600) or FLEET_ETCD_PASSWORD in a root-only EnvironmentFile',
    ]);
    expect(
      resolve(['--api_listen=127.0.0.1:1'], { FLEET_API_TOKEN: TOKEN, FLEET_ETCD_PASSWORD: 'pw' }).warnings,
    ).toEqual([]);
  });

  it('fleet.conf holding a secret, and private key files, readable by group or others: one line naming file and mode', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-ts-secrets-'));
    try {
      const confPath = join(dir, 'fleet.conf');
      const key = join(dir, 'etcd.key');
      const tlsKey = join(dir, 'api.key');
      writeFileSync(key, 'k', { mode: 0o640 });
      writeFileSync(tlsKey, 'k', { mode: 0o600 });
      writeFileSync(
        confPath,
        `etcd_password=pw\netcd_certfile=/c.pem\netcd_keyfile=${key}\napi_listen=127.0.0.1:1\napi_token=${TOKEN}\n`,
        { mode: 0o644 },
      );
      const r = loadFleetdConfig(
        [`--config=${confPath}`, `--api_tls_key=${tlsKey}`, '--api_tls_cert=/c'],
        {},
      );
      if (r.kind !== 'run') throw new Error('expected run');
      expect(r.warnings).toEqual([
        `${confPath} holds etcd_password and api_token and is readable by every local user (mode 0644): chmod 600 ${confPath} (or 640 with a group only fleetd's account is in)`,
        `${key} holds the private key of etcd_keyfile and is readable by the file's group (mode 0640): chmod 600 ${key} (or 640 with a group only fleetd's account is in)`,
      ]);
      // Without secrets in it, a readable fleet.conf is fine; mode 0600 files are fine.
      writeFileSync(confPath, 'agent_ttl=30s\n');
      const quiet = loadFleetdConfig([`--config=${confPath}`], {});
      expect(quiet.kind === 'run' && quiet.warnings).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
