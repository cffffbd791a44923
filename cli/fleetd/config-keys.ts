// fleetd's configuration keys: FleetdConfig, and the table of keys with each key's default, help
// text and value check. Resolution (which source wins) is in config.ts, the command line in config-args.ts.

import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import {
  normalizeKeyPrefix,
  parseEtcdServers,
  parseGoBool,
  parseGoDurationMs,
  parseGoFloat,
  parseGoInt,
  parseMetadata,
  ValueError,
} from './config-values.js';

export const DEFAULT_CONFIG_FILE = '/etc/fleet/fleet.conf';
export const ENV_PREFIX = 'FLEET_';

/** The resolved configuration of one fleetd. Durations are in milliseconds. */
export interface FleetdConfig {
  /** > 0 turns on debug logging (fleet had a single debug level). */
  readonly verbosity: number;
  readonly etcdServers: readonly string[];
  readonly etcdUsername: string;
  readonly etcdPassword: string;
  /** Always starts and ends with `/`. */
  readonly etcdKeyPrefix: string;
  readonly etcdKeyFile: string;
  readonly etcdCertFile: string;
  readonly etcdCaFile: string;
  readonly etcdRequestTimeoutMs: number;
  readonly engineReconcileIntervalMs: number;
  /**
   * fleet-ts: operations per engine transaction; must not exceed etcd's --max-txn-ops (etcd's default
   * is 128). Larger means fewer transactions and fewer agent wake-ups when many units are scheduled.
   */
  readonly etcdMaxTxnOps: number;
  /** '' = detect from the default route. */
  readonly publicIP: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly agentTtlMs: number;
  readonly unitsDirectory: string;
  readonly systemdUser: boolean;
  /** Page size of the HTTP API. */
  readonly tokenLimit: number;
  /** Accepted for compatibility and ignored (a warning says so). */
  readonly enableGrpc: boolean;
  readonly disableEngine: boolean;
  readonly disableWatches: boolean;
  /** fleet-ts: directory of unit files kept submitted and in sync; '' = off. */
  readonly unitWatchDirectory: string;
  /** fleet-ts: TCP address (`host:port`) on which fleetd serves the API itself; '' = off. */
  readonly apiListen: string;
  /** fleet-ts: TCP address of a /metrics + /health listener (`:port` = loopback); '' = off. */
  readonly metricsListen: string;
  /** fleet-ts: bearer token required on api_listen when non-empty. */
  readonly apiToken: string;
  readonly apiTlsCert: string;
  readonly apiTlsKey: string;
  readonly apiTlsClientCa: string;
  /** fleet-ts: unix socket fleetd serves the API on when not socket-activated; '' = off. */
  readonly apiSocket: string;
  /** fleet-ts: serve TCP listeners without a token or client certificates (fleet's behaviour). */
  readonly apiInsecureUnauthenticatedTcp: boolean;
  /** The config file that was read, null when none. */
  readonly configFile: string | null;
}

/** A configuration problem that stops fleetd; the message is one line meant for the user. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export type Setter = (raw: string, out: MutableConfig, warnings: string[]) => void;
export type MutableConfig = { -readonly [K in keyof FleetdConfig]: FleetdConfig[K] };

export interface KeySpec {
  readonly key: string;
  /** Default, as the raw string a user would write (fleet's flag defaults). */
  readonly def: string;
  readonly bool?: boolean;
  readonly help: string;
  readonly set: Setter;
}

// --- value checks shared by several keys -------------------------------------------------------

type TextField = {
  [K in keyof MutableConfig]: MutableConfig[K] extends string ? K : never;
}[keyof MutableConfig];

/** Setter of a free-text key: any value, including '', is valid. */
const text =
  (field: TextField): Setter =>
  (raw, c) => {
    c[field] = raw;
  };

const positiveSeconds = (raw: string): number => {
  const n = parseGoFloat(raw);
  if (!(n > 0)) throw new ValueError('a number of seconds greater than 0');
  return Math.round(n * 1000);
};

const absolutePath = (raw: string, allowEmpty: boolean): string => {
  if (raw === '' && allowEmpty) return raw;
  if (!isAbsolute(raw)) throw new ValueError(allowEmpty ? 'an absolute path or nothing' : 'an absolute path');
  return raw;
};

/** host:port, [v6]:port or :port with a port in 1..65535. */
const listenAddress = (raw: string): string => {
  if (raw === '') return raw;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]*):(\d{1,5})$/.exec(raw);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new ValueError('host:port such as 127.0.0.1:54728');
  return raw;
};

// --- the keys -----------------------------------------------------------------------------------

export const KEYS: readonly KeySpec[] = [
  {
    key: 'verbosity',
    def: '0',
    help: 'logging detail; any value above 0 turns on debug logs',
    set: (raw, c) => {
      c.verbosity = parseGoInt(raw);
    },
  },
  {
    key: 'etcd_servers',
    def: 'http://127.0.0.1:2379,http://127.0.0.1:4001',
    help: 'etcd endpoints, comma-separated (a JSON-style ["a","b"] list also works)',
    set: (raw, c) => {
      c.etcdServers = parseEtcdServers(raw);
    },
  },
  { key: 'etcd_username', def: '', help: 'etcd user name', set: text('etcdUsername') },
  { key: 'etcd_password', def: '', help: 'etcd password', set: text('etcdPassword') },
  {
    key: 'etcd_key_prefix',
    def: '/_coreos.com/fleet/',
    help: 'etcd key space of fleet data',
    set: (raw, c) => {
      if (raw.trim() === '') throw new ValueError('a key prefix such as /_coreos.com/fleet/');
      c.etcdKeyPrefix = normalizeKeyPrefix(raw);
    },
  },
  {
    key: 'etcd_keyfile',
    def: '',
    help: 'TLS client key for etcd',
    set: text('etcdKeyFile'),
  },
  {
    key: 'etcd_certfile',
    def: '',
    help: 'TLS client certificate for etcd',
    set: text('etcdCertFile'),
  },
  {
    key: 'etcd_cafile',
    def: '',
    help: 'CA bundle to verify etcd',
    set: text('etcdCaFile'),
  },
  {
    key: 'etcd_request_timeout',
    def: '1.0',
    help: 'seconds one etcd request may take before it counts as failed',
    set: (raw, c) => {
      c.etcdRequestTimeoutMs = positiveSeconds(raw);
    },
  },
  {
    key: 'engine_reconcile_interval',
    def: '2.0',
    help: 'seconds between two full reconciles of the engine',
    set: (raw, c) => {
      c.engineReconcileIntervalMs = positiveSeconds(raw);
    },
  },
  {
    key: 'etcd_max_txn_ops',
    def: '128',
    help: "operations per engine transaction; at most etcd's --max-txn-ops (etcd's default: 128)",
    set: (raw, c) => {
      const n = parseGoInt(raw);
      // Each transaction carries one operation plus the leader guard at the least.
      if (n < 2) throw new ValueError('a whole number of at least 2');
      c.etcdMaxTxnOps = n;
    },
  },
  {
    key: 'public_ip',
    def: '',
    help: 'IP address this machine publishes (default: the address of the default route)',
    set: (raw, c) => {
      if (raw !== '' && isIP(raw) === 0) throw new ValueError('an IPv4 or IPv6 address');
      c.publicIP = raw;
    },
  },
  {
    key: 'metadata',
    def: '',
    help: 'machine metadata as key=value pairs, comma-separated',
    set: (raw, c, warnings) => {
      const { metadata, skipped } = parseMetadata(raw);
      for (const s of skipped) warnings.push(`metadata entry "${s}" is not key=value - ignoring`);
      c.metadata = metadata;
    },
  },
  {
    key: 'agent_ttl',
    def: '30s',
    help: 'how long this machine stays listed without a heartbeat (Go duration)',
    set: (raw, c) => {
      const ms = parseGoDurationMs(raw);
      // etcd leases have whole-second TTLs; below 1 s the machine would flap.
      if (ms < 1000) throw new ValueError('a duration of at least 1s, like 30s');
      c.agentTtlMs = ms;
    },
  },
  {
    key: 'units_directory',
    def: '/run/fleet/units/',
    help: 'where the agent writes the unit files it loads into systemd',
    set: (raw, c) => {
      c.unitsDirectory = absolutePath(raw, false);
    },
  },
  {
    key: 'systemd_user',
    def: 'false',
    bool: true,
    help: 'drive the systemd --user instance instead of the system one',
    set: (raw, c) => {
      c.systemdUser = parseGoBool(raw);
    },
  },
  {
    key: 'token_limit',
    def: '100',
    help: 'entries per page of the HTTP API',
    set: (raw, c) => {
      const n = parseGoInt(raw);
      if (n < 1) throw new ValueError('a whole number of at least 1');
      c.tokenLimit = n;
    },
  },
  {
    key: 'enable_grpc',
    def: 'false',
    bool: true,
    help: 'accepted for compatibility with fleet and ignored',
    set: (raw, c, warnings) => {
      c.enableGrpc = parseGoBool(raw);
      if (c.enableGrpc) {
        warnings.push('Config option enable_grpc is accepted but ignored: fleet-ts agents always use etcd');
      }
    },
  },
  {
    key: 'disable_engine',
    def: 'false',
    bool: true,
    help: 'never take part in the engine leader election',
    set: (raw, c) => {
      c.disableEngine = parseGoBool(raw);
    },
  },
  {
    key: 'disable_watches',
    def: 'false',
    bool: true,
    help: 'poll etcd instead of watching it (slower scheduling)',
    set: (raw, c) => {
      c.disableWatches = parseGoBool(raw);
    },
  },
  {
    key: 'verify_units',
    def: 'false',
    bool: true,
    help: 'no longer supported; ignored',
    set: (raw, _c, warnings) => {
      // fleet complained only when the option was switched on; any other value is just as ignored.
      if (!FALSE_LIKE.has(raw)) warnings.push(DEPRECATED('verify_units'));
    },
  },
  {
    key: 'authorized_keys_file',
    def: '',
    help: 'no longer supported; ignored',
    set: (raw, _c, warnings) => {
      if (raw !== '') warnings.push(DEPRECATED('authorized_keys_file'));
    },
  },
  {
    key: 'unit_watch_directory',
    def: '',
    help: 'fleet-ts: keep the unit files of this directory submitted and in sync (empty = off)',
    set: (raw, c) => {
      c.unitWatchDirectory = absolutePath(raw, true);
    },
  },
  {
    key: 'api_listen',
    def: '',
    help: 'fleet-ts: host:port on which fleetd serves the HTTP API itself (empty = off)',
    set: (raw, c) => {
      c.apiListen = listenAddress(raw);
    },
  },
  {
    key: 'metrics_listen',
    def: '',
    help: 'fleet-ts: host:port serving only /metrics and /health (":port" = 127.0.0.1; empty = off)',
    set: (raw, c) => {
      const addr = listenAddress(raw);
      c.metricsListen = addr.startsWith(':') ? `127.0.0.1${addr}` : addr;
    },
  },
  {
    key: 'api_token',
    def: '',
    help: 'fleet-ts: bearer token required by api_listen (empty = none)',
    set: text('apiToken'),
  },
  {
    key: 'api_tls_cert',
    def: '',
    help: 'fleet-ts: TLS certificate for api_listen',
    set: (raw, c) => {
      c.apiTlsCert = absolutePath(raw, true);
    },
  },
  {
    key: 'api_tls_key',
    def: '',
    help: 'fleet-ts: TLS key for api_listen',
    set: (raw, c) => {
      c.apiTlsKey = absolutePath(raw, true);
    },
  },
  {
    key: 'api_tls_client_ca',
    def: '',
    help: 'fleet-ts: CA that API clients must present certificates from (empty = no client certificates)',
    set: (raw, c) => {
      c.apiTlsClientCa = absolutePath(raw, true);
    },
  },
  {
    key: 'api_insecure_unauthenticated_tcp',
    def: 'false',
    bool: true,
    help: 'fleet-ts: serve TCP API listeners without api_token or client certificates (anyone who can connect controls the cluster)',
    set: (raw, c) => {
      c.apiInsecureUnauthenticatedTcp = parseGoBool(raw);
    },
  },
  {
    key: 'api_socket',
    def: '/var/run/fleet.sock',
    help: 'fleet-ts: unix socket for the API when fleetd is not socket-activated (empty = off)',
    set: (raw, c) => {
      c.apiSocket = absolutePath(raw, true);
    },
  },
];

const FALSE_LIKE = new Set(['', '0', 'f', 'F', 'FALSE', 'false', 'False']);
const DEPRECATED = (key: string): string => `Config option ${key} is no longer supported - ignoring`;

export const KEY_BY_NAME: ReadonlyMap<string, KeySpec> = new Map(KEYS.map((k) => [k.key, k]));

/** Every configuration key fleetd understands, in documentation order. */
export const FLEETD_CONFIG_KEYS: readonly string[] = KEYS.map((k) => k.key);

/** FLEET_* variables that are not config keys but belong to fleet-ts (no "unknown" warning). */
export const OTHER_FLEET_ENV = /^FLEET_(LOG_LEVEL|TEST_\w*)$/;

/** The ConfigError for a bad value of `key` from `source`; anything but a ValueError is rethrown. */
export function valueError(key: string, raw: string, source: string, e: unknown): ConfigError {
  if (!(e instanceof ValueError)) throw e;
  return new ConfigError(`invalid value ${JSON.stringify(raw)} for ${key} (${source}): ${e.message}`);
}
