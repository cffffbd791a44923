// Starts a real etcd server (Debian's etcd-server package) for tests: a free loopback port, a throwaway
// data dir, and a stop() that kills exactly the process it started, by PID. If etcd is missing the
// test fails loudly: there is no fake fallback.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const ETCD_BINARY = process.env.FLEET_TEST_ETCD ?? '/usr/bin/etcd';

export interface EtcdServer {
  /** Client URL on loopback, e.g. http://127.0.0.1:41234 */
  readonly endpoint: string;
  readonly clientPort: number;
  readonly dataDir: string;
  /** Prometheus /metrics URL of this etcd (loopback). */
  readonly metricsUrl: string;
  pid(): number;
  /** SIGTERM and wait; data dir kept (for restart). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start again on the same port and data dir. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT, to simulate an unresponsive etcd. */
  pause(): void;
  resume(): void;
  /** Kill and remove the data dir. Safe to call twice. */
  stop(): Promise<void>;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) if (p.pid && p.exitCode === null) p.kill('SIGKILL');
});

export interface StartEtcdOptions {
  /** Extra client listen addresses besides loopback (e.g. a bridge address for nspawn machines). */
  readonly extraListenHosts?: readonly string[];
  /** Override the client port (default: a free port). */
  readonly clientPort?: number;
  readonly extraArgs?: readonly string[];
  /**
   * Serve clients over TLS and require client certificates signed by `caFile` (--client-cert-auth).
   * The endpoint is then https://; health is read from the plain-http metrics listener.
   */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
}

/** Attempts at a first start whose ports another process took between freePort() and etcd's bind. */
const BIND_ATTEMPTS = 3;

export async function startEtcd(opts: StartEtcdOptions = {}): Promise<EtcdServer> {
  if (!existsSync(ETCD_BINARY)) {
    throw new Error(
      `etcd not found at ${ETCD_BINARY}: install the Debian package etcd-server (scripts/install-deps.sh)`,
    );
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await startEtcdOnce(opts);
    } catch (err) {
      // freePort() closes its probe before etcd binds: on a busy machine another process can take the
      // port in between (seen once in CI). New ports, fresh data dir; any other failure is reported.
      if (attempt >= BIND_ATTEMPTS || !String(err).includes('address already in use')) throw err;
    }
  }
}

async function startEtcdOnce(opts: StartEtcdOptions): Promise<EtcdServer> {
  const clientPort = opts.clientPort ?? (await freePort());
  const peerPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'fleet-ts-etcd-'));
  const hosts = ['127.0.0.1', ...(opts.extraListenHosts ?? [])];
  const scheme = opts.tls ? 'https' : 'http';
  const listen = hosts.map((h) => `${scheme}://${h}:${clientPort}`).join(',');
  const metricsBase = `http://127.0.0.1:${await freePort()}`;
  const args = [
    '--name',
    'test',
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    listen,
    '--advertise-client-urls',
    `${scheme}://127.0.0.1:${clientPort}`,
    '--listen-peer-urls',
    `http://127.0.0.1:${peerPort}`,
    '--initial-advertise-peer-urls',
    `http://127.0.0.1:${peerPort}`,
    '--initial-cluster',
    `test=http://127.0.0.1:${peerPort}`,
    '--log-level',
    'error',
    '--logger',
    'zap',
    '--listen-metrics-urls',
    metricsBase,
    ...(opts.tls
      ? [
          '--cert-file',
          opts.tls.certFile,
          '--key-file',
          opts.tls.keyFile,
          '--trusted-ca-file',
          opts.tls.caFile,
          '--client-cert-auth',
        ]
      : []),
    ...(opts.extraArgs ?? []),
  ];
  const endpoint = `${scheme}://127.0.0.1:${clientPort}`;
  const healthUrl = `${opts.tls ? metricsBase : endpoint}/health`;
  let child: ChildProcess | undefined;
  let stderr = '';

  const launch = async () => {
    stderr = '';
    child = spawn(ETCD_BINARY, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ETCD_UNSUPPORTED_ARCH: '' },
    });
    running.add(child);
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const started = Date.now();
    for (;;) {
      if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${stderr.trim()}`);
      try {
        const res = await fetch(healthUrl, { signal: AbortSignal.timeout(500) });
        if (res.ok) return;
      } catch {
        // not up yet
      }
      if (Date.now() - started > 15_000)
        throw new Error(`etcd did not become healthy in 15 s: ${stderr.trim()}`);
      await sleep(50);
    }
  };

  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill(signal);
    await exited;
    running.delete(c);
  };

  try {
    await launch();
  } catch (err) {
    await kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;
  return {
    endpoint,
    clientPort,
    dataDir,
    metricsUrl: `${metricsBase}/metrics`,
    pid: () => child?.pid ?? -1,
    kill,
    restart: launch,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      child?.kill('SIGCONT');
      await kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
