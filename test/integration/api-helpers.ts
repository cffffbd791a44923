// Shared by the API tests: raw HTTP requests over a unix socket or TCP (no client library, so the
// tests see exactly the bytes fleetd sends), and a registry snapshot to prove "nothing changed".
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { Namespace } from 'etcd3';

export interface Target {
  readonly socketPath?: string;
  readonly host?: string;
  readonly port?: number;
  readonly tls?: Pick<RequestOptions, 'ca' | 'cert' | 'key'>;
  /** Sent with every request (e.g. Authorization). */
  readonly headers?: Record<string, string>;
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface Send {
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string | Buffer;
  /** Stream this many bytes of body instead (chunked unless a content-length header is given). */
  readonly streamBytes?: number;
}

export function http(target: Target, method: string, path: string, send: Send = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const opts = {
      method,
      path,
      headers: {
        ...(target.headers ?? {}),
        // Node sends a GET/DELETE body without a length unless told: set it so the body is framed.
        ...(send.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(send.body)) } : {}),
        ...(send.headers ?? {}),
      },
      ...(target.socketPath ? { socketPath: target.socketPath } : { host: target.host, port: target.port }),
      ...(target.tls ?? {}),
    };
    const req = (target.tls ? httpsRequest : httpRequest)(opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    let answered = false;
    req.on('response', () => {
      answered = true;
    });
    // Writing a huge body into a server that already answered and hung up fails with EPIPE/ECONNRESET:
    // only an error before any response counts.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (send.streamBytes !== undefined) {
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let left = send.streamBytes;
      const pump = (): void => {
        while (left > 0 && !req.destroyed) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!req.write(chunk.subarray(0, n))) {
            req.once('drain', pump);
            return;
          }
        }
        if (!req.destroyed) req.end();
      };
      pump();
    } else {
      req.end(send.body);
    }
  });
}

export const json = (body: unknown): Send => ({
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

/** Every key and value under the namespace: equal snapshots mean the registry did not change. */
export async function snapshot(ns: Namespace): Promise<Record<string, string>> {
  return ns.getAll().strings();
}
