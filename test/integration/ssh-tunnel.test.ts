// openTunnel: etcd3's gRPC client reaches a real etcd through a real sshd (direct-tcpip).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostKeyError } from '../../cli/ssh/errors.js';
import type { SshOptions } from '../../cli/ssh/options.js';
import { openTunnel } from '../../cli/ssh/tunnel.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { type SshdServer, startSshd } from '../support/sshd.js';

let sshd: SshdServer;
let etcd: EtcdServer;
let dir: string;

function opts(extra: Partial<SshOptions> = {}): SshOptions & { tunnel: string } {
  const kh = join(dir, 'known_hosts');
  writeFileSync(kh, `[${sshd.host}]:${sshd.port} ${sshd.hostPublicKey()}\n`);
  return {
    username: sshd.username,
    port: 22,
    timeoutMs: 10_000,
    strictHostKeyChecking: true,
    knownHostsFile: kh,
    identityFiles: [sshd.clientKeyFile],
    agentSocket: '',
    notice: () => {},
    tunnel: `${sshd.host}:${sshd.port}`,
    ...extra,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-ts-ssh-tun-'));
  sshd = await startSshd();
  etcd = await startEtcd();
}, 180_000);

afterAll(async () => {
  await etcd?.stop();
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('openTunnel', () => {
  it('lets etcd3 put and get through the tunnel local port', async () => {
    const tunnel = await openTunnel(opts(), '127.0.0.1', etcd.clientPort);
    const client = new Etcd3({ hosts: `http://${tunnel.localHost}:${tunnel.localPort}` });
    try {
      expect(tunnel.localHost).toBe('127.0.0.1');
      expect(tunnel.localPort).not.toBe(etcd.clientPort);
      await client.put('/tunnel/test').value('through ssh');
      expect(await client.get('/tunnel/test').string()).toBe('through ssh');
      // Seen directly (not through the tunnel), the value is really in etcd.
      const direct = new Etcd3({ hosts: etcd.endpoint });
      try {
        expect(await direct.get('/tunnel/test').string()).toBe('through ssh');
      } finally {
        direct.close();
      }
    } finally {
      client.close();
      await tunnel.close();
    }
  });

  it('fails at once, before listening, when the tunnel host key is unknown', async () => {
    const err = await openTunnel(
      { ...opts(), knownHostsFile: join(dir, 'empty_known_hosts') },
      '127.0.0.1',
      etcd.clientPort,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyError);
  });

  it('reconnects to the tunnel host after the SSH connection is cut', async () => {
    const errors: Error[] = [];
    const tunnel = await openTunnel(opts(), '127.0.0.1', etcd.clientPort, (e) => errors.push(e));
    const client = new Etcd3({ hosts: `http://${tunnel.localHost}:${tunnel.localPort}` });
    try {
      await client.put('/tunnel/again').value('1');
      const before = sshd.pid();
      await sshd.restart(); // kills the listener and every per-connection sshd process
      expect(sshd.pid()).not.toBe(before);
      let value: string | null = null;
      // The gRPC channel notices the cut and redials the local port; allow it a few attempts.
      for (let i = 0; i < 20 && value !== '2'; i++) {
        try {
          await client.put('/tunnel/again').value('2');
          value = await client.get('/tunnel/again').string();
        } catch {
          await sleep(250);
        }
      }
      expect(value).toBe('2');
      expect(errors).toEqual([]);
    } finally {
      client.close();
      await tunnel.close();
    }
  }, 180_000);
});
