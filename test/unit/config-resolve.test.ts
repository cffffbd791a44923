// fleetd config resolution: defaults, precedence (defaults < file < env < flags), values, derived
// settings, and loading real files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdOptionsFromConfig, loadFleetdConfig, logLevelFromConfig } from '../../cli/fleetd/config.js';
import { DEFAULT_CONFIG_FILE, FLEETD_CONFIG_KEYS } from '../../cli/fleetd/config-keys.js';
import { conf, errorOf, resolve } from './config-fixtures.js';

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
