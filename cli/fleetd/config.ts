// fleetd's configuration resolved the way fleet resolved it: defaults < config file < FLEET_<KEY>
// environment < command-line flags; only the winning value of each key is checked. Differences from
// fleet and the fleet-ts keys: docs/configuration.md. Pure except loadFleetdConfig (reads files).

import { readFileSync } from 'node:fs';
import { tcpAuthProblem, tokenProblem } from '../../api/tcp-auth.js';
import type { EtcdConnectionOptions } from '../../registry/types.js';
import { errorMessage } from '../../units/common.js';
import { parseFleetdArgs } from './config-args.js';
import {
  ConfigError,
  DEFAULT_CONFIG_FILE,
  ENV_PREFIX,
  type FleetdConfig,
  KEY_BY_NAME,
  KEYS,
  type MutableConfig,
  OTHER_FLEET_ENV,
  valueError,
} from './config-keys.js';
import { ConfSyntaxError, parseConfFile } from './config-values.js';
import { secretFileWarnings, secretFlagWarnings } from './secrets.js';

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
  warnings.push(...secretFlagWarnings(args.flags));

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

function readConfigFile(
  explicit: string | null,
  readFile: ReadConfigFile,
): { path: string; entries: ReturnType<typeof parseConfFile> } | null {
  const path = explicit ?? DEFAULT_CONFIG_FILE;
  let text: string | null;
  try {
    text = readFile(path);
  } catch (e) {
    throw new ConfigError(`unable to use config file ${path}: ${errorMessage(e)}`);
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
  const resolved = resolveFleetdConfig({ argv, env, readFile: readConfigFileFromDisk });
  if (resolved.kind !== 'run') return resolved;
  const { config } = resolved;
  const confText = config.configFile === null ? null : readConfigFileFromDisk(config.configFile);
  return { ...resolved, warnings: [...resolved.warnings, ...secretFileWarnings(config, confText)] };
}
