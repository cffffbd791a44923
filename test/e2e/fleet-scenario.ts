// Helpers shared by the e2e scenarios: fleetctl as a real process from the host, systemd's view from
// inside the machines, and the build fleetd runs from (the project is bind-mounted into the machines).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Etcd3 } from 'etcd3';
import { DEFAULT_KEY_PREFIX } from '../../registry/types.js';
import { runChild } from '../support/child.js';
import { ensureBuilt, PROJECT } from '../support/fleet-e2e.js';
import type { Cluster } from '../support/nspawn.js';

export { ensureBuilt, PROJECT };

const FLEETCTL = join(PROJECT, 'dist/cli/fleetctl.js');

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `fleetctl --driver=etcd --endpoint=<etcd> ARGS` as a real process on the host. */
export async function fleetctl(
  cluster: Cluster,
  args: readonly string[],
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const r = await runChild(
    process.execPath,
    [FLEETCTL, '--driver=etcd', `--endpoint=${cluster.etcd.endpoint}`, ...args],
    { cwd: opts.cwd ?? PROJECT, timeoutMs },
  );
  if (r.signal) throw new Error(`fleetctl ${args.join(' ')} killed by ${r.signal} (timeout ${timeoutMs} ms)`);
  return { code: r.code ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** Like fleetctl but throws (with its stderr) unless it exits 0. */
export async function fleetctlOk(cluster: Cluster, args: readonly string[], opts: { cwd?: string } = {}) {
  const r = await fleetctl(cluster, args, opts);
  if (r.code !== 0) throw new Error(`fleetctl ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

export interface UnitRow {
  readonly unit: string;
  readonly machine: { readonly id: string; readonly ip: string | null } | null;
  readonly active: string | null;
  readonly sub: string | null;
}

export async function listUnits(cluster: Cluster): Promise<UnitRow[]> {
  return JSON.parse(await fleetctlOk(cluster, ['list-units', '--output', 'json'])) as UnitRow[];
}

export interface UnitFileRow {
  readonly unit: string;
  readonly dstate: string;
  readonly state: string | null;
  readonly tmachine: { readonly id: string; readonly ip: string | null } | null;
}

export async function listUnitFiles(cluster: Cluster): Promise<UnitFileRow[]> {
  return JSON.parse(
    await fleetctlOk(cluster, [
      'list-unit-files',
      '--output',
      'json',
      '--fields',
      'unit,dstate,state,tmachine',
    ]),
  ) as UnitFileRow[];
}

export async function listMachineIDs(cluster: Cluster): Promise<string[]> {
  const rows = JSON.parse(await fleetctlOk(cluster, ['list-machines', '--output', 'json'])) as {
    machine: string;
  }[];
  return rows.map((r) => r.machine);
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
      last = ` (last error: ${(err as Error).message})`;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}`);
    await sleep(intervalMs);
  }
}

/** Waits until every machine of the cluster that runs fleetd is listed by `fleetctl list-machines`. */
export async function waitForMachines(cluster: Cluster, names: readonly string[]): Promise<void> {
  const want = names.map((n) => cluster.machine(n).machineID);
  await until(`machines ${names.join(', ')} in list-machines`, 60_000, async () => {
    const ids = await listMachineIDs(cluster);
    return want.every((id) => ids.includes(id)) ? true : undefined;
  });
}

/** Units systemd reports active (or activating) inside a machine, matching a glob like `apache@*`. */
export async function activeInMachine(cluster: Cluster, machine: string, glob: string): Promise<string[]> {
  const r = await cluster.exec(machine, [
    'systemctl',
    'list-units',
    '--plain',
    '--no-legend',
    '--state=active,activating,reloading,deactivating',
    glob,
  ]);
  if (r.code !== 0) throw new Error(`[${machine}] systemctl list-units: ${r.stderr.trim()}`);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((u) => u.length > 0)
    .sort();
}

/** Machine name by fleet machine ID. */
export function machineByID(cluster: Cluster, id: string): string {
  for (const m of cluster.machines.values()) if (m.machineID === id) return m.name;
  throw new Error(`no machine with ID ${id}`);
}

/** The machine ID holding the engine leader key, or null. */
export async function engineLeader(cluster: Cluster): Promise<string | null> {
  const client = new Etcd3({ hosts: [cluster.etcd.endpoint] });
  try {
    return await client.get(`${DEFAULT_KEY_PREFIX}engine/leader`).string();
  } finally {
    client.close();
  }
}

// A stand-in for Apache, the demo's: answers with the hostname of the machine it runs on (%H), so a
// request proves which machine serves it.
export { APACHE_UNIT } from '../../scripts/demo/steps.js';

export const HELLO_UNIT = `[Unit]
Description=hello %i

[Service]
ExecStart=/bin/sh -c 'echo hello %i; exec sleep 1000000'
`;

/** A temp dir holding unit files, for `fleetctl submit/start <file>`; remove() deletes it. */
export function unitDir(files: Readonly<Record<string, string>>): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-ts-e2e-units-'));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** GET http://ip:port/ from the host, retrying while the server is still binding its socket. */
export async function httpGet(ip: string, port: number, timeoutMs = 30_000): Promise<string> {
  return until(`HTTP answer from ${ip}:${port}`, timeoutMs, async () => {
    const res = await fetch(`http://${ip}:${port}/`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.text() : undefined;
  });
}

/** fleetd's recent log in a machine, for failure diagnostics. */
export async function fleetdLog(cluster: Cluster, machine: string, lines = 40): Promise<string> {
  const r = await cluster.exec(machine, [
    'journalctl',
    '-u',
    'fleet.service',
    '--no-pager',
    '-n',
    String(lines),
    '-o',
    'cat',
  ]);
  return r.stdout;
}
