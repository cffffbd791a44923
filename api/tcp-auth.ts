// Who may use the API over TCP. fleet's TCP API had no authentication and gave root on every machine
// to anyone who could connect, so every TCP listener — configured (api_listen) or socket-activated —
// needs a bearer token or TLS client certificates, unless the operator sets a key whose name says
// what it does: api_insecure_unauthenticated_tcp. A token never travels in clear text off the host.

/** Shortest accepted api_token / $FLEETCTL_API_TOKEN, in bytes. */
export const MIN_API_TOKEN_BYTES = 16;

/** localhost, 127.0.0.0/8, ::1 (also as an IPv4-mapped address). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\./.test(h);
}

export interface TcpAuth {
  /** Where it listens, for messages: `api_listen 0.0.0.0:8080` or `socket-activated fd 3 (0.0.0.0:8080)`. */
  readonly what: string;
  readonly host: string;
  readonly token: string;
  readonly tls: boolean;
  readonly clientCerts: boolean;
  readonly insecureAllowed: boolean;
}

/** Why this TCP listener must not be served, or null. */
export function tcpAuthProblem(a: TcpAuth): string | null {
  if (a.insecureAllowed) return null;
  if (a.token === '' && !a.clientCerts) {
    return `${a.what} needs api_token or api_tls_client_ca (with api_tls_cert and api_tls_key): refusing to serve the API over TCP without authentication (api_insecure_unauthenticated_tcp=true overrides)`;
  }
  if (a.token !== '' && !a.tls && !isLoopbackHost(a.host)) {
    return `${a.what} would receive api_token in clear text from other hosts: set api_tls_cert and api_tls_key, or listen on loopback`;
  }
  return null;
}

/** Why a token is unacceptable (too short), or null. */
export function tokenProblem(token: string, name: string): string | null {
  if (token !== '' && Buffer.byteLength(token) < MIN_API_TOKEN_BYTES) {
    return `${name} is ${Buffer.byteLength(token)} bytes; it must be at least ${MIN_API_TOKEN_BYTES} (e.g. openssl rand -hex 32)`;
  }
  return null;
}
