// The API's sockets: those systemd hands fleetd (socket activation), else the unix socket `api_socket`
// (mode 0660); a TCP `api_listen` is off by default and needs TLS client certificates or a token.
// `setRegistry` swaps the registry (fleetd on SIGHUP) without closing or reopening a listener.
// Design notes: docs/architecture.md, "api/listen.ts".

import { createHash, timingSafeEqual } from 'node:crypto';
import { chmodSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect } from 'node:net';
import { errorMessage } from '../units/common.js';
import type { Logger } from '../units/log.js';
import { FLEET_TS_VERSION } from '../units/version.js';
import { createApiHandler } from './handler.js';
import type { OpsEndpoints } from './ops-http.js';
import type { ApiRegistry } from './route.js';
import { API_SERVER_OPTIONS, limitConnections } from './server-limits.js';
import { tcpAuthProblem, tokenProblem } from './tcp-auth.js';
import type { JournalReader } from './ui/journal.js';
import { UI_STATIC_PATH } from './ui/static.js';

/** First file descriptor systemd passes (SD_LISTEN_FDS_START). */
export const LISTEN_FDS_START = 3;

/** The fleet.conf settings the API listeners use (fleetd's FleetdConfig has them all). */
export interface ApiListenConfig {
  readonly apiSocket: string;
  readonly apiListen: string;
  readonly apiToken: string;
  readonly apiTlsCert: string;
  readonly apiTlsKey: string;
  readonly apiTlsClientCa: string;
  readonly tokenLimit: number;
  readonly apiInsecureUnauthenticatedTcp?: boolean;
}

export interface ApiServer {
  /** Where the API is served, e.g. `unix:/var/run/fleet.sock`, `fd:3`, `https://127.0.0.1:54728`. */
  readonly addresses: readonly string[];
  setRegistry(registry: ApiRegistry): void;
  /** Stops accepting, drops open connections, removes the unix socket fleetd created. */
  close(): Promise<void>;
}

export interface StartApiOptions {
  readonly version?: string;
  /** Defaults to process.env; the LISTEN_* variables are removed from it once consumed. */
  readonly env?: NodeJS.ProcessEnv;
  readonly pid?: number;
  /** fleet-ts: serve /metrics and /health (ops-http.ts). */
  readonly ops?: OpsEndpoints;
  /** fleet-ts: the web console's journal reader (api/ui/journal.ts). */
  readonly journal?: JournalReader;
}

export class ApiListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiListenError';
  }
}

/**
 * sd_listen_fds(): the activated descriptors, or [] when the variables are absent or meant for
 * another process (LISTEN_PID differs: they were inherited from a parent).
 */
export function activatedFds(env: NodeJS.ProcessEnv, pid: number): number[] {
  const fds = env.LISTEN_FDS;
  const forPid = env.LISTEN_PID;
  if (fds === undefined || forPid === undefined) return [];
  if (!/^\d+$/.test(forPid) || Number(forPid) !== pid) return [];
  if (!/^\d+$/.test(fds)) throw new ApiListenError(`LISTEN_FDS=${JSON.stringify(fds)} is not a number`);
  const n = Number(fds);
  return Array.from({ length: n }, (_, i) => LISTEN_FDS_START + i);
}

/** Whether the bearer token in `header` equals `token`, in time independent of where they differ. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(header ?? '');
  const given = createHash('sha256')
    .update(m?.[1] ?? '')
    .digest();
  const want = createHash('sha256').update(token).digest();
  return m !== null && timingSafeEqual(given, want);
}

export async function startApiServer(
  config: ApiListenConfig,
  registry: ApiRegistry,
  log: Logger,
  opts: StartApiOptions = {},
): Promise<ApiServer> {
  const env = opts.env ?? process.env;
  const version = opts.version ?? FLEET_TS_VERSION;
  const handler = createApiHandler({
    registry,
    tokenLimit: config.tokenLimit,
    version,
    log,
    ...(opts.ops ? { ops: opts.ops } : {}),
    ...(opts.journal ? { journal: opts.journal } : {}),
  });
  // Checked before any socket is opened: a misconfiguration must not leave half the listeners up.
  const tcp = config.apiListen === '' ? undefined : tcpSettings(config);

  const servers: Server[] = [];
  const addresses: string[] = [];
  let createdSocket: string | undefined;
  const closeAll = async (): Promise<void> => {
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    if (createdSocket !== undefined) {
      try {
        unlinkSync(createdSocket);
      } catch {
        // already gone
      }
    }
  };

  try {
    const fds = activatedFds(env, opts.pid ?? process.pid);
    // Consumed: children (ExecStart of units never, but e.g. ssh helpers) must not see them.
    delete env.LISTEN_FDS;
    delete env.LISTEN_PID;
    delete env.LISTEN_FDNAMES;
    // Activated sockets may be unix or TCP; a TCP one gets the same token check as api_listen (TLS
    // cannot be added to a socket systemd opened as plain TCP).
    const activatedGuard = bearerGuard(config.apiToken, version, handler);
    for (const fd of fds) {
      const s = createHttpServer(API_SERVER_OPTIONS, activatedGuard);
      limitConnections(s, false);
      servers.push(s);
      await listenOn(s, { fd });
      const addr = s.address();
      if (addr !== null && typeof addr === 'object') {
        const problem = tcpAuthProblem({
          what: `socket-activated fd ${fd} (${addr.address}:${addr.port})`,
          host: addr.address,
          token: config.apiToken,
          tls: false,
          clientCerts: false,
          insecureAllowed: config.apiInsecureUnauthenticatedTcp === true,
        });
        if (problem !== null) throw new ApiListenError(problem);
        if (config.apiToken === '') {
          log.warn(
            { fd, address: `${addr.address}:${addr.port}` },
            'serving the API on a socket-activated TCP socket without authentication (api_insecure_unauthenticated_tcp)',
          );
        }
        addresses.push(`fd:${fd} tcp:${addr.address}:${addr.port}`);
      } else addresses.push(`fd:${fd}${typeof addr === 'string' && addr !== '' ? ` unix:${addr}` : ''}`);
    }
    if (fds.length === 0 && config.apiSocket !== '') {
      await clearStaleSocket(config.apiSocket);
      const s = createHttpServer(API_SERVER_OPTIONS, handler);
      limitConnections(s, false);
      servers.push(s);
      // umask around the (synchronous) bind: the socket never exists with wider permissions.
      const old = process.umask(0o117);
      try {
        await listenOn(s, { path: config.apiSocket });
      } finally {
        process.umask(old);
      }
      createdSocket = config.apiSocket;
      chmodSync(config.apiSocket, 0o660);
      addresses.push(`unix:${config.apiSocket}`);
    }
    if (tcp) {
      const guarded = bearerGuard(tcp.token, version, handler);
      const s = tcp.tls
        ? createHttpsServer({ ...API_SERVER_OPTIONS, ...tcp.tls }, guarded)
        : createHttpServer(API_SERVER_OPTIONS, guarded);
      limitConnections(s, tcp.tls !== undefined);
      servers.push(s);
      await listenOn(s, { host: tcp.host, port: tcp.port });
      const addr = s.address();
      const port = addr !== null && typeof addr === 'object' ? addr.port : tcp.port;
      addresses.push(
        `${tcp.tls ? 'https' : 'http'}://${tcp.host.includes(':') ? `[${tcp.host}]` : tcp.host}:${port}`,
      );
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  for (const s of servers) s.on('error', (err) => log.error({ err }, 'API listener error'));
  log.info({ addresses }, 'serving the fleet API');
  return {
    addresses,
    setRegistry: (r) => handler.setRegistry(r),
    close: closeAll,
  };
}

interface TcpSettings {
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly tls?: {
    cert: Buffer;
    key: Buffer;
    ca?: Buffer;
    requestCert: boolean;
    rejectUnauthorized: boolean;
  };
}

function tcpSettings(config: ApiListenConfig): TcpSettings {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(config.apiListen);
  if (!m) throw new ApiListenError(`api_listen ${JSON.stringify(config.apiListen)}: expected host:port`);
  const host = m[1] ?? (m[2] === '' || m[2] === undefined ? '0.0.0.0' : m[2]);
  const port = Number(m[3]);
  const clientCerts = config.apiTlsClientCa !== '';
  const problem =
    tokenProblem(config.apiToken, 'api_token') ??
    tcpAuthProblem({
      what: `api_listen ${config.apiListen}`,
      host,
      token: config.apiToken,
      tls: config.apiTlsCert !== '',
      clientCerts,
      insecureAllowed: config.apiInsecureUnauthenticatedTcp === true,
    });
  if (problem !== null) throw new ApiListenError(problem);
  if (clientCerts && (config.apiTlsCert === '' || config.apiTlsKey === '')) {
    throw new ApiListenError('api_tls_client_ca needs api_tls_cert and api_tls_key');
  }
  let tls: TcpSettings['tls'];
  if (config.apiTlsCert !== '') {
    const read = (key: string, path: string): Buffer => {
      try {
        return readFileSync(path);
      } catch (err) {
        throw new ApiListenError(
          `${key} ${path}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`,
        );
      }
    };
    tls = {
      cert: read('api_tls_cert', config.apiTlsCert),
      key: read('api_tls_key', config.apiTlsKey),
      ...(clientCerts ? { ca: read('api_tls_client_ca', config.apiTlsClientCa) } : {}),
      requestCert: clientCerts,
      rejectUnauthorized: clientCerts,
    };
  }
  return { host, port, token: config.apiToken, ...(tls ? { tls } : {}) };
}

/** Requests over TCP must carry the bearer token when one is set; unix-socket requests need none. */
function bearerGuard(
  token: string,
  version: string,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const overTcp = req.socket.remoteAddress !== undefined;
    // The console's page and script carry no cluster data: the page must load to ask for the token.
    const staticUi =
      (req.method === 'GET' || req.method === 'HEAD') &&
      UI_STATIC_PATH.test((req.url ?? '').split('?')[0] ?? '');
    if (overTcp && token !== '' && !staticUi && !bearerMatches(req.headers.authorization, token)) {
      const body = JSON.stringify({ error: { code: 401, message: 'missing or invalid bearer token' } });
      res.writeHead(401, {
        Server: `fleetd/${version}`,
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        'WWW-Authenticate': 'Bearer',
      });
      res.end(body);
      return;
    }
    handler(req, res);
  };
}

function listenOn(
  server: Server,
  target: { fd: number } | { path: string } | { host: string; port: number },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      const where =
        'fd' in target ? `fd ${target.fd}` : 'path' in target ? target.path : `${target.host}:${target.port}`;
      reject(new ApiListenError(`cannot serve the API on ${where}: ${err.message}`));
    };
    server.once('error', onError);
    server.listen(target, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Removes a socket file left by a previous fleetd, but only if nothing answers on it: a live fleetd
 * (or anything else) listening there keeps its socket and this start fails instead.
 */
export async function clearStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ApiListenError(`api_socket ${path}: ${errorMessage(err)}`);
  }
  if (!isSocket) throw new ApiListenError(`api_socket ${path} exists and is not a socket; not removing it`);
  const alive = await new Promise<boolean>((resolve) => {
    const c = connect({ path });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (alive) throw new ApiListenError(`api_socket ${path} is in use by another process`);
  unlinkSync(path);
}
