// Settings of fleetctl's SSH features and the small pure helpers that normalise them.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { terminalPrompt } from './prompt.js';

export interface SshOptions {
  /** --ssh-username, default 'core'. */
  username: string;
  /** --ssh-port, default 22; used when the address has no port of its own. */
  port: number;
  /** --ssh-timeout: limit for dial + handshake + authentication, per hop. */
  timeoutMs: number;
  /** --strict-host-key-checking; false disables all host key checking. */
  strictHostKeyChecking: boolean;
  /** --known-hosts-file, default ~/.fleetctl/known_hosts (`~` expanded). */
  knownHostsFile: string;
  /** --tunnel host[:port]; `:22` is used when no port is given. */
  tunnel?: string;
  /** -A: forward the local ssh-agent to the remote session. */
  forwardAgent?: boolean;
  /** Private keys to offer; default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exist. */
  identityFiles?: string[];
  /** ssh-agent socket; default $SSH_AUTH_SOCK. Pass '' to use no agent. */
  agentSocket?: string;
  /** Asks the unknown-host question; absent when stdin is not a TTY (then unknown hosts fail). */
  prompt?: (question: string) => Promise<string>;
  /** Where one-line notices go (accepted host keys, skipped known_hosts lines). Default: stderr. */
  notice?: (message: string) => void;
}

/** fleetctl's global SSH flags (its GlobalOptions has them). */
export interface SshGlobalFlags {
  readonly sshUsername: string;
  readonly sshPort: number;
  /** Seconds. */
  readonly sshTimeout: number;
  readonly strictHostKeyChecking: boolean;
  readonly knownHostsFile: string;
  /** Comma-separated private key files. */
  readonly sshIdentityFile: string;
  readonly tunnel: string;
}

/**
 * SSH settings from the global flags (also used by --tunnel for the etcd connection). `env` is the
 * command's environment: its SSH_AUTH_SOCK picks the agent. The unknown-host question is asked only
 * when stdin is a terminal; otherwise an unknown host fails at once (scripts never hang).
 */
export function sshOptionsFromGlobals(
  g: SshGlobalFlags,
  env: Readonly<Record<string, string | undefined>>,
  forwardAgent = false,
): SshOptions {
  const identityFiles = g.sshIdentityFile
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '');
  const prompt = terminalPrompt();
  return {
    username: g.sshUsername,
    port: g.sshPort,
    timeoutMs: Math.round(g.sshTimeout * 1000),
    strictHostKeyChecking: g.strictHostKeyChecking,
    knownHostsFile: g.knownHostsFile,
    agentSocket: env.SSH_AUTH_SOCK ?? '',
    ...(identityFiles.length > 0 ? { identityFiles } : {}),
    ...(g.tunnel ? { tunnel: g.tunnel } : {}),
    ...(prompt ? { prompt } : {}),
    forwardAgent,
  };
}

export const DEFAULT_SSH_OPTIONS = {
  username: 'core',
  port: 22,
  timeoutMs: 10_000,
  strictHostKeyChecking: true,
  knownHostsFile: '~/.fleetctl/known_hosts',
} as const satisfies Partial<SshOptions>;

/** Identity files fleetctl looks for, in this order (like OpenSSH's defaults we support). */
export const DEFAULT_IDENTITY_NAMES = ['id_ed25519', 'id_ecdsa', 'id_rsa'] as const;

/** Home directory of `user` from /etc/passwd (what Go's user.Lookup reads); undefined when absent. */
function passwdHome(user: string): string | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === user && f[5]) return f[5];
    }
  } catch {
    // no passwd file: fall through
  }
  return undefined;
}

/** Expand a leading `~` or `~user` (fleet's pkg/filepath.go behaviour). */
export function expandHome(path: string, home: string = process.env.HOME || homedir()): string {
  if (path === '~' || path.startsWith('~/')) return home + path.slice(1);
  const m = /^~([^/]+)(\/.*)?$/.exec(path);
  if (m?.[1]) {
    const base = passwdHome(m[1]);
    if (base === undefined) throw new Error(`cannot expand "${path}": unknown user ${m[1]}`);
    return base + (m[2] ?? '');
  }
  return path;
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * Split `host`, `host:port`, `[v6]:port` or a bare IPv6 address. The port defaults to
 * `defaultPort` (fleet appends the SSH port only when the address has no `:`).
 */
export function parseHostPort(addr: string, defaultPort: number): HostPort {
  const a = addr.trim();
  if (a === '') throw new Error('empty SSH address');
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(a);
  if (bracket?.[1]) return { host: bracket[1], port: checkPort(bracket[2], defaultPort, addr) };
  const colons = a.split(':').length - 1;
  if (colons === 0) return { host: a, port: defaultPort };
  if (colons > 1) return { host: a, port: defaultPort }; // bare IPv6 address
  const [host, port] = a.split(':');
  if (!host) throw new Error(`invalid SSH address "${addr}": missing host`);
  return { host, port: checkPort(port, defaultPort, addr) };
}

function checkPort(text: string | undefined, fallback: number, addr: string): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new Error(`invalid port in SSH address "${addr}"`);
  return n;
}

/** Identity files to offer: the explicit list, else the default names under ~/.ssh that exist. */
export function resolveIdentityFiles(opts: Pick<SshOptions, 'identityFiles'>, home?: string): string[] {
  if (opts.identityFiles) return opts.identityFiles.map((f) => expandHome(f, home));
  const dir = join(home ?? (process.env.HOME || homedir()), '.ssh');
  return DEFAULT_IDENTITY_NAMES.map((n) => join(dir, n)).filter((f) => existsSync(f));
}
