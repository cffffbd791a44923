// sshExec / sshShell against a real OpenSSH server on loopback: exit codes, output, host key
// confirmation and recording, authentication by key file and by ssh-agent, and failures.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostKeyError, SshError } from '../../cli/ssh/errors.js';
import { sshExec, sshShell } from '../../cli/ssh/exec.js';
import { keyFingerprint } from '../../cli/ssh/known-hosts.js';
import type { SshOptions } from '../../cli/ssh/options.js';
import { type SshdServer, startSshd } from '../support/sshd.js';

function capture() {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  err.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return { io: { stdout: out, stderr: err }, text: () => ({ stdout, stderr }) };
}

function blobOf(publicKeyLine: string): Buffer {
  return Buffer.from(publicKeyLine.split(' ')[1] ?? '', 'base64');
}

let sshd: SshdServer;
let dir: string;
let addr: string;
const notices: string[] = [];

function opts(extra: Partial<SshOptions> = {}): SshOptions {
  return {
    username: sshd.username,
    port: sshd.port,
    timeoutMs: 10_000,
    strictHostKeyChecking: true,
    knownHostsFile: join(dir, 'known_hosts'),
    identityFiles: [sshd.clientKeyFile],
    agentSocket: '',
    notice: (m) => notices.push(m),
    ...extra,
  };
}

/** A known_hosts file that already trusts the test server. */
function trusted(name: string): string {
  const file = join(dir, name);
  writeFileSync(file, `[${sshd.host}]:${sshd.port} ${sshd.hostPublicKey()}\n`);
  return file;
}

beforeAll(async () => {
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), 'fleet-ts-ssh-test-'));
  addr = sshd.host;
}, 180_000);

afterAll(async () => {
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('sshExec against a real sshd', () => {
  it('returns the remote exit code and copies stdout and stderr', async () => {
    const c = capture();
    const code = await sshExec(
      addr,
      'echo out; echo err >&2; exit 3',
      opts({ knownHostsFile: trusted('kh-exec') }),
      c.io,
    );
    expect(code).toBe(3);
    expect(c.text()).toEqual({ stdout: 'out\n', stderr: 'err\n' });
  });

  it('exits 255 and says which signal ended a remote command that was killed', async () => {
    const c = capture();
    const code = await sshExec(addr, 'kill -TERM $$', opts({ knownHostsFile: trusted('kh-signal') }), c.io);
    expect(code).toBe(255);
    expect(c.text().stderr).toMatch(/^Remote command on \S+ was terminated by signal SIGTERM\n$/);
  });

  it('uses the port in the address over the default port', async () => {
    const c = capture();
    const code = await sshExec(
      `${sshd.host}:${sshd.port}`,
      'exit 0',
      opts({ port: 1, knownHostsFile: trusted('kh-port') }),
      c.io,
    );
    expect(code).toBe(0);
  });

  it('feeds stdin to the remote command when given, and EOF otherwise', async () => {
    const c = capture();
    const stdin = new PassThrough();
    stdin.end('hello over ssh\n');
    const kh = trusted('kh-stdin');
    expect(await sshExec(addr, 'tr a-z A-Z', opts({ knownHostsFile: kh }), { ...c.io, stdin })).toBe(0);
    expect(c.text().stdout).toBe('HELLO OVER SSH\n');
    const c2 = capture();
    expect(await sshExec(addr, 'cat; echo done', opts({ knownHostsFile: kh }), c2.io)).toBe(0);
    expect(c2.text().stdout).toBe('done\n');
  });

  it('refuses an unknown host without a prompt, naming the fingerprint, and records nothing', async () => {
    const kh = join(dir, 'kh-unknown');
    const fp = keyFingerprint(blobOf(sshd.hostPublicKey()));
    const err = await sshExec(addr, 'exit 0', opts({ knownHostsFile: kh }), capture().io).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HostKeyError);
    const msg = (err as Error).message;
    expect(msg).toContain(fp);
    expect(msg).toContain(`[${sshd.host}]:${sshd.port}`);
    expect(msg).not.toContain('\n');
    expect(existsSync(kh)).toBe(false);
  });

  it('asks about an unknown host, records it on "yes", and connects silently the next time', async () => {
    const khDir = join(dir, 'fresh', '.fleetctl');
    const kh = join(khDir, 'known_hosts');
    const questions: string[] = [];
    const prompt = async (q: string) => {
      questions.push(q);
      return 'yes';
    };
    expect(await sshExec(addr, 'exit 0', opts({ knownHostsFile: kh, prompt }), capture().io)).toBe(0);
    expect(questions).toHaveLength(1);
    const fp = keyFingerprint(blobOf(sshd.hostPublicKey()));
    expect(questions[0]).toBe(
      `The authenticity of host '[${sshd.host}]:${sshd.port}' can't be established.\n` +
        `ED25519 key fingerprint is ${fp}.\n` +
        'Are you sure you want to continue connecting (yes/no)? ',
    );
    expect(readFileSync(kh, 'utf8')).toBe(`[${sshd.host}]:${sshd.port} ${sshd.hostPublicKey()}\n`);
    expect(statSync(khDir).mode & 0o777).toBe(0o700);
    expect(statSync(kh).mode & 0o777).toBe(0o644);
    expect(notices).toContain(
      `Warning: Permanently added '[${sshd.host}]:${sshd.port}' (ED25519) to the list of known hosts.`,
    );

    const c = capture();
    expect(await sshExec(addr, 'echo again', opts({ knownHostsFile: kh, prompt }), c.io)).toBe(0);
    expect(c.text().stdout).toBe('again\n');
    expect(questions).toHaveLength(1);
    expect(readFileSync(kh, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('refuses the host when the answer is not yes, and records nothing', async () => {
    const kh = join(dir, 'kh-no');
    const err = await sshExec(
      addr,
      'exit 0',
      opts({ knownHostsFile: kh, prompt: async () => 'no' }),
      capture().io,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyError);
    expect((err as Error).message).toMatch(/^Host key verification failed for /);
    expect(existsSync(kh)).toBe(false);
  });

  it('does not count the time spent answering the host key question against --ssh-timeout', async () => {
    const kh = join(dir, 'kh-slow');
    const prompt = () => new Promise<string>((r) => setTimeout(() => r('y'), 1500));
    expect(
      await sshExec(addr, 'exit 0', opts({ knownHostsFile: kh, prompt, timeoutMs: 1000 }), capture().io),
    ).toBe(0);
  });

  it('accepts a host matched by a hashed known_hosts entry', async () => {
    const kh = join(dir, 'kh-hashed');
    writeFileSync(kh, `[${sshd.host}]:${sshd.port} ${sshd.hostPublicKey()}\n`);
    execFileSync('/usr/bin/ssh-keygen', ['-H', '-f', kh], { stdio: 'ignore' });
    expect(readFileSync(kh, 'utf8')).toMatch(/^\|1\|/);
    expect(await sshExec(addr, 'exit 5', opts({ knownHostsFile: kh }), capture().io)).toBe(5);
  });

  it('ignores known_hosts when strict host key checking is off', async () => {
    const kh = join(dir, 'kh-off');
    expect(
      await sshExec(addr, 'exit 0', opts({ knownHostsFile: kh, strictHostKeyChecking: false }), capture().io),
    ).toBe(0);
    expect(existsSync(kh)).toBe(false);
  });

  it('fails with one line when the client key is not authorized', async () => {
    const bad = sshd.makeUnauthorizedKey();
    const err = await sshExec(
      addr,
      'exit 0',
      opts({ knownHostsFile: trusted('kh-badkey'), identityFiles: [bad] }),
      capture().io,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SshError);
    expect((err as Error).message).toBe(
      `SSH authentication failed for ${sshd.username}@${sshd.host}:${sshd.port}: the server accepted none of the offered credentials (${bad})`,
    );
  });

  it('fails with one line when there is neither an agent nor a key', async () => {
    const err = await sshExec(
      addr,
      'exit 0',
      opts({ identityFiles: [join(dir, 'missing_key')] }),
      capture().io,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SshError);
    expect((err as Error).message).toMatch(/^no SSH credentials: SSH_AUTH_SOCK is not set/);
    expect((err as Error).message).not.toContain('\n');
  });

  it('fails with one line when nothing listens on the port', async () => {
    const err = await sshExec('127.0.0.1:1', 'exit 0', opts(), capture().io).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SshError);
    expect((err as Error).message).toMatch(/^cannot connect to 127\.0\.0\.1:1: .*ECONNREFUSED/);
  });

  it('gives up after --ssh-timeout when the server never answers', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      const err = await sshExec(`127.0.0.1:${port}`, 'exit 0', opts({ timeoutMs: 500 }), capture().io).catch(
        (e: unknown) => e,
      );
      expect((err as Error).message).toBe(
        `timed out while initiating SSH connection to 127.0.0.1:${port} (after 0.5 s)`,
      );
    } finally {
      silent.close();
    }
  });
});

describe('ssh-agent authentication', () => {
  let agent: ChildProcess | undefined;
  let sock = '';
  beforeAll(async () => {
    sock = join(dir, 'agent.sock');
    agent = spawn('/usr/bin/ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    const started = Date.now();
    while (!existsSync(sock)) {
      if (agent.exitCode !== null) throw new Error(`ssh-agent exited with ${agent.exitCode}`);
      if (Date.now() - started > 10_000) throw new Error('ssh-agent did not start');
      await sleep(20);
    }
    execFileSync('/usr/bin/ssh-add', [sshd.clientKeyFile], {
      env: { ...process.env, SSH_AUTH_SOCK: sock },
      stdio: 'ignore',
    });
  }, 180_000);
  afterAll(() => {
    if (agent?.pid && agent.exitCode === null) agent.kill('SIGTERM');
  });

  it('logs in with a key held by the agent and no identity file', async () => {
    const c = capture();
    const code = await sshExec(
      addr,
      'echo via-agent',
      opts({ knownHostsFile: trusted('kh-agent'), identityFiles: [], agentSocket: sock }),
      c.io,
    );
    expect(code).toBe(0);
    expect(c.text().stdout).toBe('via-agent\n');
  });

  it('forwards the agent with -A so the remote side can use it', async () => {
    const c = capture();
    const code = await sshExec(
      addr,
      'test -S "$SSH_AUTH_SOCK" && ssh-add -l',
      opts({ knownHostsFile: trusted('kh-fwd'), identityFiles: [], agentSocket: sock, forwardAgent: true }),
      c.io,
    );
    expect(code).toBe(0);
    expect(c.text().stdout).toContain('fleet-ts-test');
  });

  it('does not forward the agent without -A', async () => {
    const c = capture();
    const code = await sshExec(
      addr,
      'test -n "$SSH_AUTH_SOCK"',
      opts({ knownHostsFile: trusted('kh-nofwd'), identityFiles: [], agentSocket: sock }),
      c.io,
    );
    expect(code).toBe(1);
  });
});

describe('sshShell', () => {
  it('runs a shell without a PTY when stdin is not a terminal and returns its exit code', async () => {
    const c = capture();
    const stdin = new PassThrough();
    stdin.end('echo from-shell; exit 4\n');
    const code = await sshShell(addr, opts({ knownHostsFile: trusted('kh-shell') }), { ...c.io, stdin });
    expect(code).toBe(4);
    expect(c.text().stdout).toContain('from-shell\n');
  });
});
