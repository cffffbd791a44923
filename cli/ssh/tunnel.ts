// fleetctl --tunnel for the etcd connection: a local TCP listener on loopback whose connections are
// forwarded (SSH direct-tcpip) from the tunnel host to the etcd endpoint. Unlike fleet's unix-socket
// path this needs nothing but sshd on the tunnel host (no fleetctl fd-forward there). etcd3's gRPC
// client simply dials the local port.

import { createServer, type Socket } from 'node:net';
import type { Client } from 'ssh2';
import { connectTunnelHost, forwardOut, type SshConnection } from './connect.js';
import type { SshOptions } from './options.js';

export interface Tunnel {
  readonly localHost: string;
  readonly localPort: number;
  /** Stop listening, drop forwarded connections and end the SSH connection. */
  close(): Promise<void>;
}

/**
 * Connect to the tunnel host now (so host key and authentication problems surface at once), then
 * listen on 127.0.0.1 on a free port. If the SSH connection drops, the next local connection
 * reconnects once; if that fails, the local connection is closed and the error is reported
 * through `onError` (the gRPC client then sees a failed connection and retries or times out).
 */
export async function openTunnel(
  opts: SshOptions & { tunnel: string },
  targetHost: string,
  targetPort: number,
  onError: (err: Error) => void = () => {},
): Promise<Tunnel> {
  let conn: SshConnection | undefined = await connectTunnelHost(opts);
  let connecting: Promise<SshConnection> | undefined;
  let closed = false;
  const sockets = new Set<Socket>();

  const watch = (c: SshConnection) => {
    const drop = () => {
      if (conn === c) conn = undefined;
    };
    c.client.on('close', drop);
    c.client.on('error', drop);
  };
  watch(conn);

  const sshClient = async (): Promise<Client> => {
    if (conn) return conn.client;
    if (!connecting) {
      connecting = connectTunnelHost(opts).finally(() => {
        connecting = undefined;
      });
    }
    const c = await connecting;
    if (closed) {
      c.close();
      throw new Error('tunnel closed');
    }
    if (!conn) {
      conn = c;
      watch(c);
    }
    return conn.client;
  };

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pause();
    sshClient()
      .then((client) => forwardOut(client, targetHost, targetPort))
      .then(
        (channel) => {
          if (socket.destroyed) {
            channel.close();
            return;
          }
          channel.on('error', () => socket.destroy());
          channel.on('close', () => socket.destroy());
          socket.on('close', () => channel.close());
          socket.pipe(channel);
          channel.pipe(socket);
          socket.resume();
        },
        (err: Error) => {
          socket.destroy();
          onError(err);
        },
      );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const localPort = typeof addr === 'object' && addr ? addr.port : 0;

  return {
    localHost: '127.0.0.1',
    localPort,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      conn?.close();
      conn = undefined;
    },
  };
}
