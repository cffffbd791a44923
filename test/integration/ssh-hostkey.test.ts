// Host key changes against a real sshd restarted with a new host key, and both hops checked with
// --tunnel (a tunnel sshd and a separate target sshd).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostKeyError, SshError } from '../../cli/ssh/errors.js';
import { sshExec } from '../../cli/ssh/exec.js';
import { keyFingerprint } from '../../cli/ssh/known-hosts.js';
import type { SshOptions } from '../../cli/ssh/options.js';
import { generateKey, type SshdServer, startSshd } from '../support/sshd.js';

const sink = () => ({ stdout: new PassThrough().resume(), stderr: new PassThrough().resume() });
const knownLine = (s: SshdServer) => `[${s.host}]:${s.port} ${s.hostPublicKey()}`;
const fingerprint = (s: SshdServer) =>
  keyFingerprint(Buffer.from(s.hostPublicKey().split(' ')[1] ?? '', 'base64'));

let dir: string;
let target: SshdServer;
let jump: SshdServer;

function opts(extra: Partial<SshOptions> = {}): SshOptions {
  return {
    username: target.username,
    port: 22,
    timeoutMs: 10_000,
    strictHostKeyChecking: true,
    knownHostsFile: join(dir, 'known_hosts'),
    // The same client key is authorized on both servers below.
    identityFiles: [target.clientKeyFile, jump.clientKeyFile],
    agentSocket: '',
    notice: () => {},
    ...extra,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-ts-ssh-hk-'));
  target = await startSshd();
  jump = await startSshd();
}, 180_000);

afterAll(async () => {
  await target?.stop();
  await jump?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('changed host key', () => {
  it('is refused with strict checking on, naming the new fingerprint and the known_hosts line, and accepted with it off', async () => {
    const kh = join(dir, 'kh-change');
    writeFileSync(kh, `# comment\n${knownLine(target)}\n`);
    const addr = `${target.host}:${target.port}`;
    expect(await sshExec(addr, 'exit 0', opts({ knownHostsFile: kh }), sink())).toBe(0);

    const oldKey = target.hostPublicKey();
    await target.restart({ newHostKey: true });
    expect(target.hostPublicKey()).not.toBe(oldKey);

    let asked = false;
    const err = await sshExec(
      addr,
      'exit 0',
      opts({
        knownHostsFile: kh,
        prompt: async () => {
          asked = true;
          return 'yes';
        },
      }),
      sink(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyError);
    const msg = (err as Error).message;
    expect(msg).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
    expect(msg).toContain(fingerprint(target));
    expect(msg).toContain(`${kh}:2`);
    expect(msg).not.toContain('\n');
    expect(asked).toBe(false); // a changed key is never offered for confirmation
    expect(readFileSync(kh, 'utf8')).toBe(`# comment\n[${target.host}]:${target.port} ${oldKey}\n`);

    expect(
      await sshExec(addr, 'exit 7', opts({ knownHostsFile: kh, strictHostKeyChecking: false }), sink()),
    ).toBe(7);
  }, 180_000);

  it('is refused when the offered key is marked @revoked', async () => {
    const kh = join(dir, 'kh-revoked');
    writeFileSync(kh, `${knownLine(target)}\n@revoked * ${target.hostPublicKey()}\n`);
    const err = await sshExec(
      `${target.host}:${target.port}`,
      'exit 0',
      opts({ knownHostsFile: kh }),
      sink(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyError);
    expect((err as Error).message).toContain(`@revoked in ${kh}:2`);
  });
});

describe('--tunnel', () => {
  it('runs a command on the target through the tunnel host when both are known', async () => {
    const kh = join(dir, 'kh-tunnel');
    writeFileSync(kh, `${knownLine(jump)}\n${knownLine(target)}\n`);
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const code = await sshExec(
      `${target.host}:${target.port}`,
      'echo "$SSH_CONNECTION"; exit 6',
      opts({ knownHostsFile: kh, tunnel: `${jump.host}:${jump.port}` }),
      { stdout: out, stderr: new PassThrough().resume() },
    );
    expect(code).toBe(6);
    // Seen from the target, the client is the tunnel sshd's forwarded connection: the server port is the target's.
    expect(text.trim().split(' ')[3]).toBe(String(target.port));
  });

  it('checks the second hop too: an unknown target is refused even though the tunnel host is known', async () => {
    const kh = join(dir, 'kh-tunnel-2');
    writeFileSync(kh, `${knownLine(jump)}\n`);
    const err = await sshExec(
      `${target.host}:${target.port}`,
      'exit 0',
      opts({ knownHostsFile: kh, tunnel: `${jump.host}:${jump.port}` }),
      sink(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyError);
    expect((err as Error).message).toContain(`[${target.host}]:${target.port}`);
    expect((err as Error).message).toContain(fingerprint(target));
  });

  it('checks the first hop: an unknown tunnel host is refused', async () => {
    const kh = join(dir, 'kh-tunnel-3');
    writeFileSync(kh, `${knownLine(target)}\n`);
    const err = await sshExec(
      `${target.host}:${target.port}`,
      'exit 0',
      opts({ knownHostsFile: kh, tunnel: `${jump.host}:${jump.port}` }),
      sink(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyError);
    expect((err as Error).message).toContain(`[${jump.host}]:${jump.port}`);
    expect((err as Error).message).toContain(fingerprint(jump));
  });

  it('reports a target the tunnel host cannot reach in one line', async () => {
    const kh = join(dir, 'kh-tunnel-4');
    writeFileSync(kh, `${knownLine(jump)}\n`);
    const err = await sshExec(
      '127.0.0.1:1',
      'exit 0',
      opts({ knownHostsFile: kh, tunnel: `${jump.host}:${jump.port}` }),
      sink(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SshError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^tunnel host ${jump.host.replaceAll('.', '\\.')}:${jump.port} cannot reach 127\\.0\\.0\\.1:1: `,
      ),
    );
  });
});

describe('host key type (issue 14 item 6)', () => {
  it('a server offering another key type than known_hosts records is a change, never a first-contact prompt', async () => {
    // The real host is recorded with its ED25519 key; a man-in-the-middle on its address has only ECDSA.
    const mitm = await startSshd({ hostKeyType: 'ecdsa' });
    try {
      const kh = join(dir, 'kh-type');
      writeFileSync(kh, `[${mitm.host}]:${mitm.port} ${target.hostPublicKey()}\n`);
      let asked = false;
      const err = await sshExec(
        `${mitm.host}:${mitm.port}`,
        'exit 0',
        opts({
          knownHostsFile: kh,
          prompt: async () => {
            asked = true;
            return 'yes';
          },
        }),
        sink(),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HostKeyError);
      const msg = (err as Error).message;
      expect(msg).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED: it offered ECDSA key');
      expect(msg).toContain(`${kh}:1 records only a ED25519 key for it`);
      expect(msg).toContain(fingerprint(mitm));
      expect(asked).toBe(false);
      expect(
        readFileSync(kh, 'utf8')
          .split('\n')
          .filter((l) => l !== ''),
      ).toHaveLength(1);
    } finally {
      await mitm.stop();
    }
  }, 180_000);

  it('negotiates the key type known_hosts records when the server has several', async () => {
    const keyDir = mkdtempSync(join(tmpdir(), 'fleet-ts-ssh-ecdsa-'));
    const ecdsa = generateKey(join(keyDir, 'ssh_host_ecdsa_key'), 'ecdsa');
    // ed25519 (ssh2's first choice) plus ECDSA; only the ECDSA key is recorded.
    const both = await startSshd({ extraConfig: [`HostKey ${ecdsa}`] });
    try {
      const kh = join(dir, 'kh-both');
      const ecdsaLine = readFileSync(`${ecdsa}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
      writeFileSync(kh, `[${both.host}]:${both.port} ${ecdsaLine}\n`);
      expect(
        await sshExec(
          `${both.host}:${both.port}`,
          'exit 3',
          opts({ knownHostsFile: kh, identityFiles: [both.clientKeyFile] }),
          sink(),
        ),
      ).toBe(3);
    } finally {
      await both.stop();
      rmSync(keyDir, { recursive: true, force: true });
    }
  }, 180_000);
});
