// Opens authenticated, host-key-checked SSH connections, directly or through the --tunnel host.
// Each hop has its own --ssh-timeout budget covering dial, handshake and authentication; time
// spent waiting for the user to answer the unknown-host question does not count against it.

import type { Duplex } from 'node:stream';
import { Client, type ClientChannel, type ConnectConfig, type ServerHostKeyAlgorithm } from 'ssh2';
import { type AuthPlan, planAuthentication } from './auth.js';
import { HostKeyError, SshError } from './errors.js';
import { preferredHostKeyAlgorithms, verifyHostKey } from './host-key-verifier.js';
import { type HostPort, parseHostPort, type SshOptions } from './options.js';

/** ssh2's host key algorithms, its default order (ssh-dss last, used only when known_hosts has one). */
const SSH2_HOST_KEY_ALGORITHMS: readonly ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
  'ssh-dss',
];

export interface SshConnection {
  /** The authenticated client on the final hop. */
  readonly client: Client;
  /** `host:port` of the final hop, for messages. */
  readonly target: string;
  /** Ends every hop of this connection. */
  close(): void;
}

export function displayHostPort(t: HostPort): string {
  return t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

function describeError(
  err: Error & { level?: string; code?: string },
  target: string,
  auth: AuthPlan,
  user: string,
) {
  if (err.level === 'client-authentication') {
    return new SshError(
      `SSH authentication failed for ${user}@${target}: the server accepted none of the offered credentials (${auth.offered.join(', ')})`,
    );
  }
  if (err.level === 'client-socket' || err.code) {
    return new SshError(`cannot connect to ${target}: ${err.message}`);
  }
  return new SshError(`SSH connection to ${target} failed: ${err.message}`);
}

/**
 * One SSH hop to `target`. `dial` supplies the transport when the hop runs over another
 * connection (the tunnel); otherwise ssh2 dials TCP itself.
 */
export async function connectHop(
  target: HostPort,
  opts: SshOptions,
  auth: AuthPlan,
  dial?: () => Promise<Duplex>,
): Promise<Client> {
  const name = displayHostPort(target);
  if (opts.forwardAgent && !auth.agentSocket) {
    throw new SshError('agent forwarding (-A) needs an ssh-agent, but SSH_AUTH_SOCK is not set');
  }
  const preferred = (await preferredHostKeyAlgorithms(target.host, target.port, opts)).filter(
    (a): a is ServerHostKeyAlgorithm => (SSH2_HOST_KEY_ALGORITHMS as readonly string[]).includes(a),
  );
  return new Promise<Client>((resolve, reject) => {
    const client = new Client();
    let settled = false;
    let hostKeyFailure: HostKeyError | undefined;
    let timer: NodeJS.Timeout | undefined;
    let remaining = opts.timeoutMs;
    let armedAt = 0;

    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.destroy();
      reject(err);
    };
    const arm = () => {
      armedAt = Date.now();
      timer = setTimeout(
        () =>
          fail(
            new SshError(
              `timed out while initiating SSH connection to ${name} (after ${opts.timeoutMs / 1000} s)`,
            ),
          ),
        Math.max(remaining, 0),
      );
    };
    const pause = () => {
      clearTimeout(timer);
      remaining -= Date.now() - armedAt;
    };

    const prompt = opts.prompt;
    const verifierOpts = {
      ...opts,
      // The user's thinking time is not part of the connection time limit.
      prompt: prompt
        ? async (question: string) => {
            pause();
            try {
              return await prompt(question);
            } finally {
              if (!settled) arm();
            }
          }
        : undefined,
    };

    client.on('ready', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(client);
    });
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      fail(hostKeyFailure ?? describeError(err, name, auth, opts.username));
    });
    client.on('close', () =>
      fail(hostKeyFailure ?? new SshError(`connection to ${name} closed during SSH setup`)),
    );

    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: opts.username,
      ...(preferred.length > 0
        ? {
            algorithms: {
              serverHostKey: [
                ...preferred,
                ...SSH2_HOST_KEY_ALGORITHMS.filter((a) => a !== 'ssh-dss' && !preferred.includes(a)),
              ],
            },
          }
        : {}),
      readyTimeout: 0, // our own timer, which pauses while the user is asked about the host key
      authHandler: [...auth.methods],
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        verifyHostKey(target.host, target.port, key, verifierOpts).then(
          () => verify(true),
          (err: Error) => {
            hostKeyFailure = err instanceof HostKeyError ? err : new HostKeyError(err.message);
            verify(false);
          },
        );
      },
      ...(opts.forwardAgent && auth.agentSocket ? { agent: auth.agentSocket, agentForward: true } : {}),
    };

    arm();
    if (!dial) {
      client.connect(config);
      return;
    }
    dial().then(
      (sock) => {
        if (settled) {
          sock.destroy();
          return;
        }
        client.connect({ ...config, sock });
      },
      (err: Error) => fail(err),
    );
  });
}

/** Ask `client` to open a TCP connection from its host to host:port (SSH direct-tcpip). */
export function forwardOut(client: Client, host: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, host, port, (err, channel) => {
      if (err) reject(err);
      else resolve(channel);
    });
  });
}

/** The --tunnel host as host:port, `:22` when no port is given. */
export function tunnelTarget(tunnel: string): HostPort {
  return parseHostPort(tunnel, 22);
}

/** Connect to the tunnel host itself (first hop only). */
export async function connectTunnelHost(opts: SshOptions & { tunnel: string }): Promise<SshConnection> {
  const via = tunnelTarget(opts.tunnel);
  const client = await connectHop(via, opts, planAuthentication(opts));
  return { client, target: displayHostPort(via), close: () => client.end() };
}

/**
 * An SSH connection to `address` (`host` or `host:port`, port defaulting to opts.port); with
 * opts.tunnel, the TCP connection is made from the tunnel host and a second, separately checked
 * SSH handshake runs over it.
 */
export async function connectSsh(address: string, opts: SshOptions): Promise<SshConnection> {
  const target = parseHostPort(address, opts.port);
  const auth = planAuthentication(opts);
  if (!opts.tunnel) {
    const client = await connectHop(target, opts, auth);
    return { client, target: displayHostPort(target), close: () => client.end() };
  }
  const via = tunnelTarget(opts.tunnel);
  const first = await connectHop(via, { ...opts, forwardAgent: false }, auth);
  try {
    const dial = () =>
      forwardOut(first, target.host, target.port).catch((err: Error) => {
        throw new SshError(
          `tunnel host ${displayHostPort(via)} cannot reach ${displayHostPort(target)}: ${err.message}`,
        );
      });
    const client = await connectHop(target, opts, auth, dial);
    return {
      client,
      target: displayHostPort(target),
      close: () => {
        client.end();
        first.end();
      },
    };
  } catch (err) {
    first.end();
    throw err;
  }
}
