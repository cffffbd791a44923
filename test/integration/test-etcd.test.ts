// The tests' own etcd launcher (test/support/etcd.ts): a port that stays taken fails loudly, after its
// retries, and leaves neither an etcd process nor a data dir behind.
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { startEtcd } from '../support/etcd.js';

const etcdDirs = () => new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('fleet-ts-etcd-')));
let holder: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (holder ? holder.close(() => resolve()) : resolve()));
  holder = undefined;
});

describe('startEtcd', () => {
  it('a client port another process holds fails with "address already in use" and cleans up', async () => {
    const server = createServer((socket) => socket.destroy()); // the launcher's health probes
    holder = server;
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => {
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      }),
    );
    const before = etcdDirs();
    await expect(startEtcd({ clientPort: port })).rejects.toThrow(/address already in use/);
    const left = [...etcdDirs()].filter((d) => !before.has(d));
    expect(left.filter((d) => existsSync(`${tmpdir()}/${d}`))).toEqual([]);
  }, 60_000);
});
