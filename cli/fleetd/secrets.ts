// Warnings about secrets other local users can read: a secret given as a command-line flag (every
// account sees argv in `ps`), and a fleet.conf holding secrets or a private key file that is
// readable by its group or by everyone. fleetd still starts: these are warnings, one line each,
// naming the file and its mode. docs/configuration.md lists what counts as a secret.
import { statSync } from 'node:fs';
import type { FlagSetting } from './config-args.js';
import type { FleetdConfig } from './config-keys.js';
import { parseConfFile } from './config-values.js';

/** Keys whose value is a secret itself. */
export const SECRET_KEYS: readonly string[] = ['api_token', 'etcd_password'];

/** One warning per secret given as a flag (pure; part of the configuration's warnings). */
export function secretFlagWarnings(flags: readonly FlagSetting[]): string[] {
  return flags
    .filter((f) => SECRET_KEYS.includes(f.key) && f.value !== '')
    .map(
      (f) =>
        `${f.key} was given as the command-line flag ${f.flag}: every local user can read it (ps, /proc/<pid>/cmdline); put it in fleet.conf (mode 0600) or FLEET_${f.key.toUpperCase()} in a root-only EnvironmentFile`,
    );
}

export interface FileFacts {
  /** Mode bits of the file (st_mode), or null when it cannot be read. */
  mode(path: string): number | null;
}

const realFiles: FileFacts = {
  mode: (path) => {
    try {
      return statSync(path).mode;
    } catch {
      return null;
    }
  },
};

const octal = (mode: number): string => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
/** Readable by the file's group or by everyone. */
const exposed = (mode: number): boolean => (mode & 0o044) !== 0;

function who(mode: number): string {
  if (mode & 0o004) return 'every local user';
  return "the file's group";
}

/** Secret keys set (non-empty) in a fleet.conf text, in file order. */
export function secretsInConfFile(text: string): string[] {
  try {
    return parseConfFile(text)
      .filter((e) => e.section === '' && SECRET_KEYS.includes(e.key.replaceAll('-', '_')) && e.value !== '')
      .map((e) => e.key.replaceAll('-', '_'));
  } catch {
    return [];
  }
}

/**
 * One warning per exposed file: the config file when it sets a secret, etcd_keyfile and api_tls_key
 * (private keys) always. `confText` is the config file's text (fleetd has read it already).
 */
export function secretFileWarnings(
  config: Pick<FleetdConfig, 'configFile' | 'etcdKeyFile' | 'apiTlsKey'>,
  confText: string | null,
  files: FileFacts = realFiles,
): string[] {
  const out: string[] = [];
  const check = (path: string, holds: string) => {
    const mode = files.mode(path);
    if (mode === null || !exposed(mode)) return;
    out.push(
      `${path} holds ${holds} and is readable by ${who(mode)} (mode ${octal(mode)}): chmod 600 ${path} (or 640 with a group only fleetd's account is in)`,
    );
  };
  if (config.configFile !== null && confText !== null) {
    const secrets = secretsInConfFile(confText);
    if (secrets.length > 0) check(config.configFile, secrets.join(' and '));
  }
  if (config.etcdKeyFile !== '') check(config.etcdKeyFile, 'the private key of etcd_keyfile');
  if (config.apiTlsKey !== '') check(config.apiTlsKey, 'the private key of api_tls_key');
  return out;
}
