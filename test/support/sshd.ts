// Starts a real OpenSSH server (Debian's openssh-server) for tests: a free loopback port, its own
// generated host key, its own sshd_config and authorized_keys in a temp dir, and a generated client
// key that is authorized. stop() kills exactly the process it started, by PID, and removes the dir.
// If sshd or ssh-keygen is missing the test fails loudly: there is no fake fallback.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './etcd.js';

export const SSHD_BINARY = process.env.FLEET_TEST_SSHD ?? '/usr/sbin/sshd';
export const SSH_KEYGEN = process.env.FLEET_TEST_SSH_KEYGEN ?? '/usr/bin/ssh-keygen';

export interface SshdServer {
  readonly host: string;
  readonly port: number;
  /** Temp dir holding config, keys and authorized_keys. */
  readonly dir: string;
  /** The local user sshd lets in (the user running the tests). */
  readonly username: string;
  /** Private key file authorized to log in. */
  readonly clientKeyFile: string;
  /** Public host key line currently served, e.g. `ssh-ed25519 AAAA...`. */
  hostPublicKey(): string;
  pid(): number;
  /** Restart on the same port; with `newHostKey` a freshly generated host key is served. */
  restart(opts?: { newHostKey?: boolean }): Promise<void>;
  /** Generate another client key that is NOT authorized (for negative tests). */
  makeUnauthorizedKey(): string;
  /** Kill the per-connection sshd processes (by PID), cutting every open SSH connection. */
  dropConnections(): Promise<void>;
  /** Kill and remove the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartSshdOptions {
  /** Listen address (default 127.0.0.1). */
  readonly host?: string;
  readonly port?: number;
  /** Host key type for ssh-keygen -t (default ed25519). */
  readonly hostKeyType?: 'ed25519' | 'ecdsa' | 'rsa';
  /** Extra sshd_config lines. */
  readonly extraConfig?: readonly string[];
}

const running = new Set<ChildProcess>();

/** PIDs of the direct children of `pid` (sshd forks one per connection). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((x) => x !== '')
      .map(Number);
  } catch {
    return [];
  }
}
process.on('exit', () => {
  for (const p of running) if (p.pid && p.exitCode === null) p.kill('SIGKILL');
});

/** Generate a key pair without passphrase; returns the private key path. */
export function generateKey(path: string, type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519'): string {
  rmSync(path, { force: true });
  rmSync(`${path}.pub`, { force: true });
  execFileSync(SSH_KEYGEN, ['-q', '-t', type, '-N', '', '-C', 'fleet-ts-test', '-f', path], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return path;
}

export async function startSshd(opts: StartSshdOptions = {}): Promise<SshdServer> {
  for (const bin of [SSHD_BINARY, SSH_KEYGEN]) {
    if (!existsSync(bin)) {
      throw new Error(
        `${bin} not found: install the Debian package openssh-server (scripts/install-deps.sh)`,
      );
    }
  }
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const dir = mkdtempSync(join(tmpdir(), 'fleet-ts-sshd-'));
  const hostKeyType = opts.hostKeyType ?? 'ed25519';
  const hostKeyFile = join(dir, 'host_key');
  const clientKeyFile = join(dir, 'client_key');
  const authorizedKeys = join(dir, 'authorized_keys');
  const configFile = join(dir, 'sshd_config');
  // sshd insists on its privilege-separation directory existing.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  try {
    generateKey(hostKeyFile, hostKeyType);
    generateKey(clientKeyFile);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`ssh-keygen failed: ${(err as Error).message}`);
  }
  writeFileSync(authorizedKeys, readFileSync(`${clientKeyFile}.pub`), { mode: 0o600 });
  writeFileSync(
    configFile,
    [
      `Port ${port}`,
      `ListenAddress ${host}`,
      `HostKey ${hostKeyFile}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'UsePAM no',
      'StrictModes no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding yes',
      'AllowAgentForwarding yes',
      `PidFile ${join(dir, 'sshd.pid')}`,
      'LogLevel INFO',
      ...(opts.extraConfig ?? []),
      '',
    ].join('\n'),
  );

  let child: ChildProcess | undefined;
  let stderr = '';

  const launch = async () => {
    stderr = '';
    const c = spawn(SSHD_BINARY, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    running.add(c);
    let listening = false;
    c.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-8000);
      if (stderr.includes('Server listening on')) listening = true;
    });
    const started = Date.now();
    while (!listening) {
      if (c.exitCode !== null) throw new Error(`sshd exited with ${c.exitCode}: ${stderr.trim()}`);
      if (Date.now() - started > 15_000) throw new Error(`sshd did not start in 15 s: ${stderr.trim()}`);
      await sleep(20);
    }
  };

  // Kill the per-connection process trees leaf first, waiting for each level to be reaped by its
  // own parent: an orphan would be re-parented to PID 1, which in a container may never reap it.
  const dropConnections = async () => {
    const pid = child?.pid;
    if (!pid || child?.exitCode !== null) return;
    const levels: number[][] = [];
    for (let level = childPids(pid); level.length > 0; level = level.flatMap(childPids)) levels.push(level);
    for (let d = levels.length - 1; d >= 0; d--) {
      for (const p of levels[d] ?? []) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      const parents = d === 0 ? [pid] : (levels[d - 1] ?? []);
      const victims = new Set(levels[d]);
      for (let i = 0; i < 100 && parents.flatMap(childPids).some((c) => victims.has(c)); i++) {
        await sleep(20);
      }
    }
  };

  // sshd's per-connection processes outlive a SIGTERM to the listener, so a restart drops them
  // explicitly: a restarted server must not keep serving old connections.
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await dropConnections();
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    await exited;
    running.delete(c);
  };

  try {
    await launch();
  } catch (err) {
    // A server that never came up must not leave a process or a temp dir behind.
    if (child?.pid && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;
  let extraKeys = 0;
  return {
    host,
    port,
    dir,
    username: userInfo().username,
    clientKeyFile,
    hostPublicKey: () => readFileSync(`${hostKeyFile}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' '),
    pid: () => child?.pid ?? -1,
    restart: async (r = {}) => {
      await kill();
      if (r.newHostKey) generateKey(hostKeyFile, hostKeyType);
      await launch();
    },
    makeUnauthorizedKey: () => generateKey(join(dir, `other_key_${++extraKeys}`)),
    dropConnections,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
