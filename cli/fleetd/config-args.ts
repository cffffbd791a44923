// fleetd's command line, parsed with Go flag rules (every config key is also a flag), and its usage text.

import {
  ConfigError,
  DEFAULT_CONFIG_FILE,
  ENV_PREFIX,
  KEY_BY_NAME,
  KEYS,
  valueError,
} from './config-keys.js';
import { parseGoBool } from './config-values.js';

// ---- command line -------------------------------------------------------------------------------

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
