// fleetctl's global flags: their defaults (fleet's), their FLEETCTL_<FLAG> environment form, and the
// Go-flag spellings commander does not know (`--debug=false`, `--l`). One table drives all three so a
// flag cannot exist on the command line but be missing from the environment or the help.
import { homedir } from 'node:os';
import { CliError } from './io.js';

export type FlagKind = 'string' | 'bool' | 'float' | 'int';

export interface GlobalFlag {
  /** Long name without dashes, e.g. `etcd-key-prefix`. */
  readonly name: string;
  readonly kind: FlagKind;
  readonly default: string | boolean | number;
  readonly description: string;
  /** Deprecated alias: its value is used when the main flag is not set. */
  readonly aliasOf?: string;
  readonly hidden?: boolean;
}

export const GLOBAL_FLAGS: readonly GlobalFlag[] = [
  {
    name: 'endpoint',
    kind: 'string',
    default: 'unix:///var/run/fleet.sock',
    description:
      'Location of the fleet API if --driver=API. Alternatively, if --driver=etcd, location of the etcd API.',
  },
  {
    name: 'driver',
    kind: 'string',
    default: 'API',
    description: 'Adapter used to execute fleetctl commands. Options include "API" and "etcd".',
  },
  {
    name: 'etcd-key-prefix',
    kind: 'string',
    default: '/_coreos.com/fleet/',
    description: 'Keyspace for fleet data in etcd (development use only!)',
  },
  {
    name: 'ca-file',
    kind: 'string',
    default: '',
    description: 'Location of TLS CA file used to secure communication with the fleet API or etcd',
  },
  {
    name: 'cert-file',
    kind: 'string',
    default: '',
    description: 'Location of TLS cert file used to secure communication with the fleet API or etcd',
  },
  {
    name: 'key-file',
    kind: 'string',
    default: '',
    description: 'Location of TLS key file used to secure communication with the fleet API or etcd',
  },
  {
    name: 'etcd-cafile',
    kind: 'string',
    default: '',
    description: 'DEPRECATED: do not use this flag.',
    aliasOf: 'ca-file',
  },
  {
    name: 'etcd-certfile',
    kind: 'string',
    default: '',
    description: 'DEPRECATED: do not use this flag.',
    aliasOf: 'cert-file',
  },
  {
    name: 'etcd-keyfile',
    kind: 'string',
    default: '',
    description: 'DEPRECATED: do not use this flag.',
    aliasOf: 'key-file',
  },
  {
    name: 'tunnel',
    kind: 'string',
    default: '',
    description:
      'Establish an SSH tunnel through the provided address for communication with fleet and etcd.',
  },
  {
    name: 'known-hosts-file',
    kind: 'string',
    default: '~/.fleetctl/known_hosts',
    description:
      'File used to store remote machine fingerprints. Ignored if strict host key checking is disabled.',
  },
  {
    name: 'strict-host-key-checking',
    kind: 'bool',
    default: true,
    description: 'Verify host keys presented by remote machines before initiating SSH connections.',
  },
  {
    name: 'ssh-port',
    kind: 'int',
    default: 22,
    description: 'Connect to remote hosts over SSH using this TCP port.',
  },
  {
    name: 'ssh-username',
    kind: 'string',
    default: 'core',
    description: 'Username to use when connecting to CoreOS instance.',
  },
  {
    // Not in fleet (which only used ssh-agent): private keys to offer after the agent's.
    name: 'ssh-identity-file',
    kind: 'string',
    default: '',
    description:
      'Private key file(s) to offer over SSH after ssh-agent, comma-separated (default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa).',
  },
  {
    name: 'request-timeout',
    kind: 'float',
    default: 3,
    description: 'Amount of time in seconds to allow a single request before considering it failed.',
  },
  {
    name: 'ssh-timeout',
    kind: 'float',
    default: 10,
    description: 'Amount of time in seconds to allow for SSH connection initialization before failing.',
  },
  // Accepted so that fleet scripts passing it keep working; it changes nothing, so help hides it.
  {
    name: 'debug',
    kind: 'bool',
    default: false,
    description: 'Accepted for compatibility with fleet; does nothing.',
    hidden: true,
  },
  {
    name: 'experimental-api',
    kind: 'bool',
    default: true,
    description: 'DEPRECATED: do not use this flag.',
    hidden: true,
  },
];

/** Boolean flags of the commands (not global): accepted in Go's `--flag=true|false` form too. */
export const COMMAND_BOOL_FLAGS = [
  'full',
  'no-legend',
  'no-block',
  'replace',
  'follow',
  'sudo',
  'forward-agent',
];

export interface GlobalOptions {
  readonly endpoint: string;
  readonly driver: string;
  readonly etcdKeyPrefix: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly tunnel: string;
  readonly knownHostsFile: string;
  readonly strictHostKeyChecking: boolean;
  readonly sshPort: number;
  readonly sshUsername: string;
  /** Comma-separated private key files; '' = the default names in ~/.ssh. */
  readonly sshIdentityFile: string;
  /** Seconds. */
  readonly requestTimeout: number;
  /** Seconds. */
  readonly sshTimeout: number;
  readonly debug: boolean;
  readonly experimentalApi: boolean;
}

export const camel = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
export const envName = (name: string): string => `FLEETCTL_${name.toUpperCase().replace(/-/g, '_')}`;

/** Go's strconv.ParseBool. */
export function parseGoBool(value: string): boolean | null {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return null;
}

export function parseFlagValue(flag: Pick<GlobalFlag, 'name' | 'kind'>, raw: string, from: string): unknown {
  switch (flag.kind) {
    case 'string':
      return raw;
    case 'bool': {
      const b = parseGoBool(raw);
      if (b === null) throw new CliError(`Error: invalid boolean value "${raw}" for ${from}`);
      return b;
    }
    case 'float': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || n < 0)
        throw new CliError(`Error: invalid value "${raw}" for ${from}: expected a non-negative number`);
      return n;
    }
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim()))
        throw new CliError(`Error: invalid value "${raw}" for ${from}: expected an integer`);
      return Number.parseInt(raw, 10);
    }
    default: {
      const never: never = flag.kind;
      return never;
    }
  }
}

/**
 * Final global options: a flag given on the command line wins, then FLEETCTL_<FLAG> (if non-empty),
 * then a deprecated alias, then fleet's default. `given` holds only the flags the user actually typed.
 */
export function resolveGlobalOptions(
  given: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
): GlobalOptions {
  const values: Record<string, unknown> = {};
  for (const flag of GLOBAL_FLAGS) {
    const key = camel(flag.name);
    if (given[key] !== undefined) {
      values[key] = given[key];
      continue;
    }
    const fromEnv = env[envName(flag.name)];
    if (fromEnv !== undefined && fromEnv !== '') {
      values[key] = parseFlagValue(flag, fromEnv, envName(flag.name));
    }
  }
  for (const flag of GLOBAL_FLAGS) {
    const key = camel(flag.name);
    if (flag.aliasOf && values[key] !== undefined && values[camel(flag.aliasOf)] === undefined) {
      values[camel(flag.aliasOf)] = values[key];
    }
  }
  for (const flag of GLOBAL_FLAGS) {
    const key = camel(flag.name);
    if (values[key] === undefined) values[key] = flag.default;
  }
  const home = env.HOME ?? homedir();
  const knownHosts = String(values.knownHostsFile);
  values.knownHostsFile =
    knownHosts === '~' || knownHosts.startsWith('~/') ? home + knownHosts.slice(1) : knownHosts;
  return values as unknown as GlobalOptions;
}

/** `--tunnel host` means port 22, as in fleet. */
export function tunnelAddress(tunnel: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(tunnel) ?? /^([^:]+)(?::(\d+))?$/.exec(tunnel);
  if (!m) throw new CliError(`Error: invalid --tunnel address "${tunnel}": expected host[:port]`);
  return { host: m[1] as string, port: m[2] ? Number.parseInt(m[2], 10) : 22 };
}
