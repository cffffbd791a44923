// Shared pieces of the fleetctl-driven e2e scenarios: an up-to-date dist/ (fleetd runs from it inside
// the machines, fleetctl from the host), running the compiled fleetctl against a cluster exactly as a
// user would (etcd driver, SSH as root with the harness key and known_hosts), polling, and reading
// systemd's view of a unit inside a machine.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, ExecResult } from './nspawn.js';
import { SOURCE_DIRS } from './source-dirs.js';

export const PROJECT = resolve(import.meta.dirname, '../..');
const FLEETCTL = join(PROJECT, 'dist/cli/fleetctl.js');

/** dist/ must hold the current sources: fleetd runs from it inside the machines. */
export function ensureBuilt(): void {
  const targets = ['dist/cli/fleetd.js', 'dist/cli/fleetctl.js', 'dist/console/app.js'].map((t) =>
    join(PROJECT, t),
  );
  const newest = (dir: string): number => {
    let t = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) t = Math.max(t, newest(p));
      else if (/\.(ts|css|html)$/.test(e.name)) t = Math.max(t, statSync(p).mtimeMs);
    }
    return t;
  };
  const srcTime = Math.max(...SOURCE_DIRS.map((d) => newest(join(PROJECT, d))));
  const stale = () => targets.some((t) => !existsSync(t) || statSync(t).mtimeMs < srcTime);
  if (!stale()) return;
  // The web console's assets (npm run build does the same after tsc).
  execFileSync(process.execPath, ['scripts/build-console.mjs'], { cwd: PROJECT, stdio: 'pipe' });
  try {
    execFileSync('node_modules/.bin/tsc', ['-p', 'tsconfig.json'], { cwd: PROJECT, stdio: 'pipe' });
  } catch (err) {
    // tsc still emits on type errors; those fail the lint test. Only missing output is fatal here.
    const out = String((err as { stdout?: unknown }).stdout ?? '');
    if (stale()) throw new Error(`build failed: ${out}`);
    console.warn(`build had type errors (emitted anyway):\n${out.slice(0, 2000)}`);
  }
}

/**
 * Runs the compiled fleetctl from the host against the cluster's etcd. SSH goes to the machines as
 * root with the harness key, checking host keys against the harness known_hosts; no ssh-agent of the
 * caller's environment is used, so the test sees exactly the credentials it set up.
 */
export function fleetctl(
  cluster: Cluster,
  args: readonly string[],
  opts: { timeoutMs?: number; input?: string } = {},
): Promise<ExecResult> {
  const argv = [
    FLEETCTL,
    '--driver=etcd',
    `--endpoint=${cluster.etcdClientEndpoints}`,
    '--ssh-username=root',
    `--known-hosts-file=${cluster.knownHostsFile}`,
    '--strict-host-key-checking=true',
    `--ssh-identity-file=${cluster.sshKeyFile}`,
    ...args,
  ];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('FLEETCTL_') && k !== 'SSH_AUTH_SOCK') env[k] = v;
  }
  return new Promise((res, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL')
        reject(new Error(`fleetctl ${args.join(' ')} timed out after ${timeoutMs} ms`));
      else res({ code: code ?? 128, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Like fleetctl but throws (one line, with output) unless it exits 0. */
export async function fleetctlOk(
  cluster: Cluster,
  args: readonly string[],
  opts: { timeoutMs?: number } = {},
): Promise<string> {
  const r = await fleetctl(cluster, args, opts);
  if (r.code !== 0) {
    throw new Error(`fleetctl ${args.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

export interface UnitRow {
  readonly unit: string;
  readonly machineID: string;
  readonly ip: string;
  readonly active: string;
  readonly sub: string;
}

/** `fleetctl list-units` as rows (full IDs, no legend). */
export async function listUnits(cluster: Cluster): Promise<UnitRow[]> {
  const out = await fleetctlOk(cluster, [
    'list-units',
    '--full',
    '--no-legend',
    '--fields=unit,machine,active,sub',
  ]);
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [unit = '', machine = '', active = '', sub = ''] = l.split('\t').filter((f) => f !== '');
      const [machineID = '', ip = ''] = machine.split('/');
      return { unit, machineID, ip, active, sub };
    });
}

export async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${last}`);
    await sleep(intervalMs);
  }
}

/** `systemctl is-active` inside the machine: active, inactive, failed, activating, ... */
export async function isActive(cluster: Cluster, machine: string, unit: string): Promise<string> {
  return (await cluster.exec(machine, ['systemctl', 'is-active', unit])).stdout.trim();
}

/** systemd's LoadState of the unit inside the machine (`not-found` once its file is gone). */
export async function loadState(cluster: Cluster, machine: string, unit: string): Promise<string> {
  return (
    await cluster.exec(machine, ['systemctl', 'show', '--property=LoadState', '--value', unit])
  ).stdout.trim();
}

/** Whether fleet's unit file for `unit` exists in the machine's /run/fleet/units. */
export async function hasUnitFile(cluster: Cluster, machine: string, unit: string): Promise<boolean> {
  return (await cluster.exec(machine, ['test', '-e', `/run/fleet/units/${unit}`])).code === 0;
}

/** Name of the machine (in the cluster) with this machine ID. */
export function machineNamed(cluster: Cluster, machineID: string): string {
  for (const m of cluster.machines.values()) if (m.machineID === machineID) return m.name;
  throw new Error(`no machine with ID ${machineID}`);
}
