// fleetd config warnings and the security checks made at config time: API authentication, secrets
// other local users can read.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFleetdConfig } from '../../cli/fleetd/config.js';
import { defaultCaFile } from '../../registry/client.js';
import { conf, resolve, TOKEN } from './config-fixtures.js';

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
