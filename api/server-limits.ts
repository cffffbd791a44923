// Limits on the API's HTTP servers, so that idle or slow clients cannot hold fleetd's file
// descriptors. Node's defaults (no connection cap, idle sockets kept forever, 60 s for headers checked
// every 30 s, 300 s per request, 120 s per TLS handshake) let 300 silent connections exhaust a
// 1024-descriptor limit: the agent then failed every writeFile and systemctl with EMFILE.

import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Connections one listener holds at once; more are closed as soon as they are accepted. */
export const API_MAX_CONNECTIONS = 256;
/** A connection that has sent nothing (or is idle between requests) is closed after this. */
export const API_IDLE_TIMEOUT_MS = 5_000;
/** Time for a client to send a request's headers. */
export const API_HEADERS_TIMEOUT_MS = 5_000;
/** Time for a client to send a whole request (headers and body). */
export const API_REQUEST_TIMEOUT_MS = 30_000;
/** Time for a TLS handshake. */
export const API_TLS_HANDSHAKE_TIMEOUT_MS = 5_000;

/** Options for http.createServer / https.createServer (merged with the TLS options). */
export const API_SERVER_OPTIONS = {
  headersTimeout: API_HEADERS_TIMEOUT_MS,
  requestTimeout: API_REQUEST_TIMEOUT_MS,
  keepAliveTimeout: API_IDLE_TIMEOUT_MS,
  // How often Node looks for requests past headersTimeout/requestTimeout (default 30 s).
  connectionsCheckingInterval: 1_000,
  handshakeTimeout: API_TLS_HANDSHAKE_TIMEOUT_MS,
} as const;

/**
 * Caps the listener's connections and closes connections that stay silent. While a request is being
 * handled the socket has no idle timeout (a slow etcd must not cut an answer off); Node re-arms
 * keepAliveTimeout once the response is sent.
 */
export function limitConnections(server: Server, tls: boolean): void {
  server.maxConnections = API_MAX_CONNECTIONS;
  // For TLS the handshake has its own timeout; the idle timer starts on the decrypted socket.
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    socket.setTimeout(API_IDLE_TIMEOUT_MS);
  });
  server.on('request', (req) => {
    req.socket.setTimeout(0);
  });
}
