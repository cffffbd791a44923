// A loopback TCP proxy in front of etcd that a test can cut, to partition one client (an agent) from
// etcd while the test itself still reaches it. cut() models a partition: bytes are silently dropped in
// both directions and new connections hang, nothing is reset; heal() drops the stalled connections so
// the client reconnects, and forwards again.
import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const url = new URL(target);
  const pairs = new Set<[Socket, Socket | null]>();
  let cut = false;
  const server = createServer((client) => {
    const pair: [Socket, Socket | null] = [client, null];
    pairs.add(pair);
    client.on('error', () => undefined);
    client.on('close', () => {
      pair[1]?.destroy();
      pairs.delete(pair);
    });
    if (cut) return; // hangs until heal() drops it
    const upstream = createConnection({ host: url.hostname, port: Number(url.port) });
    pair[1] = upstream;
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.on('data', (d) => {
      if (!cut) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!cut) client.write(d);
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('proxy has no port');
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    cut: () => {
      cut = true;
    },
    heal: () => {
      cut = false;
      for (const [c, u] of pairs) {
        c.destroy();
        u?.destroy();
      }
      pairs.clear();
    },
    close: async () => {
      for (const [c, u] of pairs) {
        c.destroy();
        u?.destroy();
      }
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
