// A real etcd cluster of several members (Debian's etcd-server) for e2e tests: each member listens for
// clients on loopback and on the given extra hosts (an nspawn bridge), peers on loopback, its own data
// dir. Members can be killed (SIGKILL: a crash) and started again on the same data; stop() kills
// exactly the processes it started, by PID, and removes the data dirs.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ETCD_BINARY, freePort } from './etcd.js';

export interface EtcdMember {
  readonly name: string;
  readonly clientPort: number;
  /** http://127.0.0.1:<clientPort> */
  readonly endpoint: string;
  running(): boolean;
  /** SIGKILL (a crash) and wait for the exit; the data dir is kept. */
  kill(): Promise<void>;
  /** Start again on the same ports and data dir (returns once the process runs; quorum may be absent). */
  start(): void;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** Client endpoints on loopback, comma-separated (fleetctl --endpoint). */
  readonly endpoints: string;
  /** Client endpoints on `host` (e.g. the bridge address), comma-separated (fleet.conf etcd_servers). */
  endpointsOn(host: string): string;
  /** The member that is raft leader now, asked of the running members; undefined without quorum. */
  leader(): Promise<EtcdMember | undefined>;
  /** Resolves once every running member answers /health with a leader. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

async function status(endpoint: string): Promise<{ memberID: string; leader: string } | undefined> {
  try {
    const res = await fetch(`${endpoint}/v3/maintenance/status`, {
      method: 'POST',
      body: '{}',
      signal: AbortSignal.timeout(1000),
    });
    if (!res.ok) return undefined;
    const j = (await res.json()) as { header?: { member_id?: string }; leader?: string };
    if (!j.header?.member_id || !j.leader || j.leader === '0') return undefined;
    return { memberID: j.header.member_id, leader: j.leader };
  } catch {
    return undefined;
  }
}

export async function startEtcdCluster(opts: {
  members: number;
  extraListenHosts?: readonly string[];
}): Promise<EtcdCluster> {
  if (!existsSync(ETCD_BINARY)) {
    throw new Error(
      `etcd not found at ${ETCD_BINARY}: install the Debian package etcd-server (scripts/install-deps.sh)`,
    );
  }
  const token = `fleet-ts-${process.pid}-${Date.now()}`;
  const defs: { name: string; clientPort: number; peerPort: number; dataDir: string }[] = [];
  for (let i = 0; i < opts.members; i++) {
    defs.push({
      name: `e${i}`,
      clientPort: await freePort(),
      peerPort: await freePort(),
      dataDir: mkdtempSync(join(tmpdir(), 'fleet-ts-etcd-member-')),
    });
  }
  const initialCluster = defs.map((d) => `${d.name}=http://127.0.0.1:${d.peerPort}`).join(',');
  const hosts = ['127.0.0.1', ...(opts.extraListenHosts ?? [])];
  const members = defs.map((d): EtcdMember & { child?: ChildProcess } => {
    const args = [
      '--name', d.name,
      '--data-dir', d.dataDir,
      '--listen-client-urls', hosts.map((h) => `http://${h}:${d.clientPort}`).join(','),
      '--advertise-client-urls', `http://127.0.0.1:${d.clientPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${d.peerPort}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${d.peerPort}`,
      '--initial-cluster', initialCluster,
      '--initial-cluster-token', token,
      '--initial-cluster-state', 'new',
      '--log-level', 'error',
      '--logger', 'zap',
    ]; // biome-ignore format: flag/value pairs
    const m: EtcdMember & { child?: ChildProcess } = {
      name: d.name,
      clientPort: d.clientPort,
      endpoint: `http://127.0.0.1:${d.clientPort}`,
      running: () => m.child !== undefined && m.child.exitCode === null && m.child.signalCode === null,
      start: () => {
        if (m.running()) return;
        const child = spawn(ETCD_BINARY, args, { stdio: 'ignore', env: { ...process.env } });
        live.add(child);
        child.once('exit', () => live.delete(child));
        m.child = child;
      },
      kill: async () => {
        const c = m.child;
        if (!c || !m.running()) return;
        // Exited meanwhile: its 'exit' event is gone, so waiting for it would never end.
        const exited = new Promise<void>((r) => {
          if (c.exitCode !== null || c.signalCode !== null) r();
          else c.once('exit', () => r());
        });
        c.kill('SIGKILL');
        await exited;
      },
    };
    return m;
  });

  const cluster: EtcdCluster = {
    members,
    endpoints: members.map((m) => m.endpoint).join(','),
    endpointsOn: (host) => members.map((m) => `http://${host}:${m.clientPort}`).join(','),
    leader: async () => {
      for (const m of members) {
        if (!m.running()) continue;
        const s = await status(m.endpoint);
        if (!s) continue;
        for (const other of members) {
          if (!other.running()) continue;
          if ((await status(other.endpoint))?.memberID === s.leader) return other;
        }
      }
      return undefined;
    },
    waitHealthy: async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const states = await Promise.all(members.filter((m) => m.running()).map((m) => status(m.endpoint)));
        if (states.length > 0 && states.every((s) => s !== undefined)) return;
        if (Date.now() > deadline) throw new Error(`etcd cluster not healthy after ${timeoutMs} ms`);
        await sleep(200);
      }
    },
    stop: async () => {
      await Promise.all(members.map((m) => m.kill()));
      for (const d of defs) rmSync(d.dataDir, { recursive: true, force: true });
    },
  };
  try {
    for (const m of members) m.start();
    await cluster.waitHealthy();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
