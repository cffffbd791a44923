// fleetd configuration, resolved the way fleet resolved it, plus a few fleet-ts keys.
//
// Sources, lowest to highest precedence:
//   built-in defaults < config file < FLEET_<KEY> environment < command-line flags
// The config file is `--config PATH` (fatal when missing or unreadable), else /etc/fleet/fleet.conf
// when it exists. Only the winning value of each key is validated, as in fleet (a bad value in the
// file that the environment overrides is never looked at).
//
// Differences from fleet, on purpose:
// - every config key is also a command-line flag (`-agent_ttl=10s`, `--agent-ttl 10s`); fleet only
//   had -config and -version on its command line;
// - a bad value is a fatal ConfigError naming key, source and expectation; fleet silently kept the
//   default (or failed much later, e.g. at time.ParseDuration);
// - unknown keys in the file and unknown FLEET_* variables produce warnings;
// - fleet-ts keys: unit_watch_directory, api_listen, api_token, api_tls_cert, api_tls_key,
//   api_tls_client_ca, api_socket, etcd_max_txn_ops (documented in packaging/fleet.conf.sample).
//
// Everything here is pure except loadFleetdConfig, the thin wrapper that reads files.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import { tcpAuthProblem, tokenProblem } from '../../api/tcp-auth.js';
import type { EtcdConnectionOptions } from '../../registry/types.js';
import {
  ConfSyntaxError,
  normalizeKeyPrefix,
  parseConfFile,
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

type Setter = (raw: string, out: MutableConfig, warnings: string[]) => void;
type MutableConfig = { -readonly [K in keyof FleetdConfig]: FleetdConfig[K] };

interface KeySpec {
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

const KEYS: readonly KeySpec[] = [
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

const KEY_BY_NAME: ReadonlyMap<string, KeySpec> = new Map(KEYS.map((k) => [k.key, k]));

/** Every configuration key fleetd understands, in documentation order. */
export const FLEETD_CONFIG_KEYS: readonly string[] = KEYS.map((k) => k.key);

/** FLEET_* variables that are not config keys but belong to fleet-ts (no "unknown" warning). */
const OTHER_FLEET_ENV = /^FLEET_(LOG_LEVEL|TEST_\w*)$/;

// --- command line -------------------------------------------------------------------------------

/** One config key given on the command line. */
export interface FlagSetting {
  readonly key: string;
  readonly value: string;
  /** As the user spelled it, e.g. `--agent-ttl`, for messages. */
  readonly flag: string;
}

export type FleetdArgs =
  | { readonly kind: 'version' }
  | { readonly kind: 'help'; readonly usage: string }
  | { readonly kind: 'run'; readonly configPath: string | null; readonly flags: readonly FlagSetting[] };

/**
 * Parses fleetd's command line with Go flag rules: `-x` and `--x` alike, `=value` or the next
 * argument as value (booleans only take `=value`), parsing stops at `--` or the first non-flag.
 * Dashes in names count as underscores. `version` as first argument means `--version`.
 * Throws ConfigError for an unknown flag, a missing value or a positional argument.
 */
export function parseFleetdArgs(argv: readonly string[]): FleetdArgs {
  let version = false;
  let configPath: string | null = null;
  const flags: FlagSetting[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    if (body === '' || body.startsWith('-') || body.startsWith('=')) {
      throw new ConfigError(`bad flag syntax: ${arg}`);
    }
    const eq = body.indexOf('=');
    const spelled = eq < 0 ? body : body.slice(0, eq);
    const flag = arg.slice(0, arg.length - body.length) + spelled;
    const name = spelled.replaceAll('-', '_');
    let inline: string | undefined = eq < 0 ? undefined : body.slice(eq + 1);

    if (name === 'h' || name === 'help') return { kind: 'help', usage: fleetdUsage() };
    const spec = KEY_BY_NAME.get(name);
    const isBool = name === 'version' || spec?.bool === true;
    if (name !== 'version' && name !== 'config' && !spec) {
      throw new ConfigError(`flag provided but not defined: ${flag} (see fleetd --help)`);
    }
    if (inline === undefined) {
      if (isBool) inline = 'true';
      else {
        const next = argv[i + 1];
        if (next === undefined) throw new ConfigError(`flag needs an argument: ${flag}`);
        inline = next;
        i++;
      }
    }
    if (name === 'version') {
      try {
        version = parseGoBool(inline);
      } catch (e) {
        throw valueError(name, inline, `flag ${flag}`, e);
      }
    } else if (name === 'config') {
      configPath = inline === '' ? null : inline;
    } else {
      flags.push({ key: name, value: inline, flag });
    }
  }
  const positional = argv.slice(i);
  if (positional.length > 0) {
    if (positional[0] === 'version') version = true;
    else throw new ConfigError('fleetd takes no arguments. Did you mean to invoke fleetctl instead?');
  }
  if (version) return { kind: 'version' };
  return { kind: 'run', configPath, flags };
}

/** `fleetd --help` text. */
export function fleetdUsage(): string {
  const lines = [
    'fleetd is the per-host daemon of fleet-ts: it runs the agent and, when elected, the engine.',
    '',
    'Usage: fleetd [--config PATH] [--KEY=VALUE ...]',
    '       fleetd --version',
    '',
    `Settings come from defaults, then the config file (${DEFAULT_CONFIG_FILE} or --config),`,
    `then ${ENV_PREFIX}<KEY> environment variables, then flags; later sources win.`,
    '',
    'Keys (flag spelling -key, --key or --key-with-dashes):',
  ];
  const width = Math.max(...KEYS.map((k) => k.key.length));
  for (const k of KEYS) {
    const def = k.def === '' ? '' : ` (default ${k.def})`;
    lines.push(`  ${k.key.padEnd(width)}  ${k.help}${def}`);
  }
  return lines.join('\n');
}

// --- resolution ---------------------------------------------------------------------------------

/**
 * Reads a file for the resolver: the contents, or null when the file does not exist.
 * Any other failure (a directory, no permission) is thrown.
 */
export type ReadConfigFile = (path: string) => string | null;

export interface ResolveInput {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: ReadConfigFile;
}

export type ResolvedFleetd =
  | { readonly kind: 'version' }
  | { readonly kind: 'help'; readonly usage: string }
  | { readonly kind: 'run'; readonly config: FleetdConfig; readonly warnings: readonly string[] };

/** Resolves fleetd's configuration from argv, environment and config file. Throws ConfigError. */
export function resolveFleetdConfig(input: ResolveInput): ResolvedFleetd {
  const args = parseFleetdArgs(input.argv);
  if (args.kind !== 'run') return args;
  const warnings: string[] = [];

  // Winning raw value and its source label per key; later sources overwrite earlier ones.
  const chosen = new Map<string, { raw: string; source: string }>();
  for (const k of KEYS) chosen.set(k.key, { raw: k.def, source: 'default' });

  const file = readConfigFile(args.configPath, input.readFile);
  if (file) {
    const fileLabel = `file ${file.path}`;
    const ignoredSections = new Set<string>();
    for (const entry of file.entries) {
      if (entry.section !== '') {
        ignoredSections.add(entry.section);
        continue;
      }
      const key = entry.key.replaceAll('-', '_');
      if (!KEY_BY_NAME.has(key)) {
        warnings.push(`unknown key "${entry.key}" in ${fileLabel} line ${entry.line} - ignoring`);
        continue;
      }
      chosen.set(key, { raw: entry.value, source: fileLabel });
    }
    for (const s of ignoredSections) {
      warnings.push(`section [${s}] in ${fileLabel} is ignored: fleetd reads only keys before any section`);
    }
  }

  for (const [name, value] of Object.entries(input.env)) {
    if (value === undefined || !name.startsWith(ENV_PREFIX)) continue;
    const key = name.slice(ENV_PREFIX.length).toLowerCase();
    if (KEY_BY_NAME.has(key)) chosen.set(key, { raw: value, source: `environment ${name}` });
    else if (!OTHER_FLEET_ENV.test(name)) warnings.push(`unknown environment variable ${name} - ignoring`);
  }

  for (const f of args.flags) chosen.set(f.key, { raw: f.value, source: `flag ${f.flag}` });

  const config = { configFile: file?.path ?? null } as MutableConfig;
  for (const k of KEYS) {
    const { raw, source } = chosen.get(k.key) as { raw: string; source: string };
    try {
      k.set(raw, config, warnings);
    } catch (e) {
      throw valueError(k.key, raw, source, e);
    }
  }
  checkCombinations(config, warnings);
  return { kind: 'run', config, warnings };
}

function valueError(key: string, raw: string, source: string, e: unknown): ConfigError {
  if (!(e instanceof ValueError)) throw e;
  return new ConfigError(`invalid value ${JSON.stringify(raw)} for ${key} (${source}): ${e.message}`);
}

function readConfigFile(
  explicit: string | null,
  readFile: ReadConfigFile,
): { path: string; entries: ReturnType<typeof parseConfFile> } | null {
  const path = explicit ?? DEFAULT_CONFIG_FILE;
  let text: string | null;
  try {
    text = readFile(path);
  } catch (e) {
    throw new ConfigError(`unable to use config file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (text === null) {
    // fleet: a config file the user named must exist; the default one is optional.
    if (explicit !== null) throw new ConfigError(`unable to use config file ${path}: no such file`);
    return null;
  }
  try {
    return { path, entries: parseConfFile(text) };
  } catch (e) {
    if (e instanceof ConfSyntaxError)
      throw new ConfigError(`unable to use config file ${path}: ${e.message}`);
    throw e;
  }
}

/** Checks that span several keys. */
function checkCombinations(c: MutableConfig, warnings: string[]): void {
  if ((c.apiTlsCert === '') !== (c.apiTlsKey === '')) {
    throw new ConfigError('api_tls_cert and api_tls_key must be set together');
  }
  // Checked here, not at start: fleetd used to pass configuration and crash when connecting.
  if ((c.etcdCertFile === '') !== (c.etcdKeyFile === '')) {
    throw new ConfigError('etcd_certfile and etcd_keyfile must be set together');
  }
  if (c.apiListen === '') {
    for (const [key, value] of [
      ['api_token', c.apiToken],
      ['api_tls_cert', c.apiTlsCert],
      ['api_tls_client_ca', c.apiTlsClientCa],
    ] as const) {
      if (value !== '') warnings.push(`${key} is set but api_listen is not - ${key} has no effect`);
    }
  }
  const short = tokenProblem(c.apiToken, 'api_token');
  if (short !== null) throw new ConfigError(short);
  if (c.apiListen !== '') {
    const host = c.apiListen.slice(0, c.apiListen.lastIndexOf(':'));
    const problem = tcpAuthProblem({
      what: `api_listen ${c.apiListen}`,
      host: host === '' ? '0.0.0.0' : host,
      token: c.apiToken,
      tls: c.apiTlsCert !== '',
      clientCerts: c.apiTlsClientCa !== '',
      insecureAllowed: c.apiInsecureUnauthenticatedTcp,
    });
    if (problem !== null) throw new ConfigError(problem);
    if (
      c.apiInsecureUnauthenticatedTcp &&
      !isLoopbackListen(c.apiListen) &&
      c.apiToken === '' &&
      c.apiTlsClientCa === ''
    ) {
      warnings.push(
        `api_listen ${c.apiListen} is reachable from other hosts without api_token or api_tls_client_ca: anyone who can connect controls the cluster`,
      );
    }
  }
}

function isLoopbackListen(addr: string): boolean {
  const host = addr.slice(0, addr.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

// --- derived settings ---------------------------------------------------------------------------

/** etcd connection settings for the registry client. */
export function etcdOptionsFromConfig(c: FleetdConfig): EtcdConnectionOptions {
  return {
    endpoints: [...c.etcdServers],
    keyPrefix: c.etcdKeyPrefix,
    requestTimeoutMs: c.etcdRequestTimeoutMs,
    ...(c.etcdCaFile ? { caFile: c.etcdCaFile } : {}),
    ...(c.etcdCertFile ? { certFile: c.etcdCertFile } : {}),
    ...(c.etcdKeyFile ? { keyFile: c.etcdKeyFile } : {}),
    ...(c.etcdUsername ? { username: c.etcdUsername, password: c.etcdPassword } : {}),
  };
}

/**
 * Log level implied by the config: 'debug' when verbosity > 0, else undefined (createLogger then
 * uses FLEET_LOG_LEVEL or its quiet default). An explicit FLEET_LOG_LEVEL still wins in the caller.
 */
export function logLevelFromConfig(c: FleetdConfig): string | undefined {
  return c.verbosity > 0 ? 'debug' : undefined;
}

// --- the thin I/O wrapper -----------------------------------------------------------------------

/** Reads a config file: null when it does not exist, an Error with a short reason otherwise. */
export const readConfigFileFromDisk: ReadConfigFile = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    if (code === 'EISDIR') throw new Error('it is a directory, not a file');
    if (code === 'EACCES') throw new Error('permission denied');
    throw e;
  }
};

/** resolveFleetdConfig over the real process: argv without node and script, files from disk. */
export function loadFleetdConfig(
  argv: readonly string[] = process.argv.slice(2),
  env: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedFleetd {
  return resolveFleetdConfig({ argv, env, readFile: readConfigFileFromDisk });
}
