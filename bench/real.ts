// `npm run bench -- --real [--units N] [--machines M] [--json FILE]`: the path users take, on real
// systemd. Boots M nspawn machines running fleetd (test/support/nspawn.ts) and measures with the compiled
// fleetctl from the host: `start --no-block` of N template instances, submit → all N active (in etcd and
// in every machine's systemd), list-units / list-unit-files, destroy → gone from every machine's systemd,
// and as the floor `systemctl start` of N/M units directly in each machine (all machines at once).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openEtcdRegistry } from '../registry/etcd-registry.js';
import { DEFAULT_KEY_PREFIX } from '../registry/types.js';
import { bundle } from '../scripts/package/bundle.mjs';
import { runChild } from '../test/support/child.js';
import { type Cluster, createCluster } from '../test/support/nspawn.js';
import { seconds } from './measure.js';

export interface RealFlags {
  readonly units: number;
  readonly machines: number;
  readonly agentTtlS: number;
}

/** fleet 1.0's figures, measured on the same 3 machines, the same hour as fleet-ts (2026-12-04). */
const FLEET_1_0: Readonly<Record<string, string>> = {
  real_start_cmd_s: '1.69 s',
  real_all_active_list_units_s: '12.4 s',
  real_list_units_s: '0.05 s',
  real_list_unit_files_s: '0.07 s',
  real_destroy_gone_s: '408–495 s',
};

const TEMPLATE = 'bench@.service';
const BODY = '[Unit]\nDescription=bench %i\n\n[Service]\nExecStart=/bin/sleep 100000\n';
const POLL_MS = 100;

type Progress = (msg: string) => void;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly s: number;
}

/** The compiled fleetctl, exactly as a user runs it (etcd driver), timed from spawn to exit. */
async function fleetctl(cli: string, cluster: Cluster, args: readonly string[], cwd: string): Promise<Run> {
  const argv = [cli, '--driver=etcd', `--endpoint=${cluster.etcd.endpoint}`];
  const started = performance.now();
  const r = await runChild(process.execPath, [...argv, ...args], { cwd });
  return { code: r.code ?? 128, stdout: r.stdout, stderr: r.stderr, s: seconds(performance.now() - started) };
}

async function fleetctlOk(cli: string, cluster: Cluster, args: readonly string[], cwd: string) {
  const r = await fleetctl(cli, cluster, args, cwd);
  if (r.code !== 0) throw new Error(`fleetctl ${args[0]}: exit ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

/** Count of units matching `pattern` in the machine's systemd (list-units with extra flags). */
async function systemdCount(cluster: Cluster, machine: string, pattern: string, flags: string[]) {
  const r = await cluster.exec(machine, [
    'systemctl',
    'list-units',
    '--plain',
    '--no-legend',
    ...flags,
    pattern,
  ]);
  if (r.code !== 0) throw new Error(`systemctl list-units in ${machine}: ${r.stderr.trim()}`);
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

/** Resolves with the time (performance.now()) at which probe first returned true, polled every POLL_MS. */
async function firstTrue(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await probe()) return performance.now();
    if (performance.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

export async function runRealBench(
  root: string,
  flags: RealFlags,
  progress: Progress,
): Promise<Record<string, number>> {
  const out: Record<string, number> = { real_units: flags.units, real_machines: flags.machines };
  // BENCH_REAL_TRACE=<dir>: fleetd logs at debug, and each machine's journal plus the wall-clock marks
  // of this run are saved there (the machines share the host's clock), to see where the time goes.
  const traceDir = process.env.BENCH_REAL_TRACE;
  const names = Array.from({ length: flags.machines }, (_, i) => `rb${i + 1}`);
  const dir = mkdtempSync(join(tmpdir(), 'fleet-ts-bench-real-'));
  writeFileSync(join(dir, TEMPLATE), BODY);
  const instances = Array.from({ length: flags.units }, (_, i) => `bench@${i + 1}.service`);
  // fleetctl as the packages install it (scripts/package/bundle.mjs: one file, etcd's proto pre-parsed);
  // list-units and version are also timed from dist/ (the npm install) for comparison.
  const [cli = ''] = await bundle(join(dir, 'bundle'));
  const distCli = join(root, 'dist/cli/fleetctl.js');
  progress(`booting ${flags.machines} real systemd machines with fleetd (agent_ttl ${flags.agentTtlS} s)`);
  const bootStart = performance.now();
  const cluster = await createCluster({
    machines: names.map((name) => ({ name, fleetConf: { agent_ttl: `${flags.agentTtlS}s` } })),
    projectDir: root,
    startFleetd: true,
    fleetdEnv: { FLEET_LOG_LEVEL: traceDir ? 'debug' : 'warn' },
  });
  const marks: Record<string, string> = {};
  const mark = (what: string) => {
    marks[what] = new Date().toISOString();
  };
  const registry = openEtcdRegistry({
    endpoints: [cluster.etcd.endpoint],
    keyPrefix: DEFAULT_KEY_PREFIX,
    requestTimeoutMs: 10_000,
  });
  try {
    await firstTrue('every machine to announce itself', 120_000, async () => {
      const r = await fleetctl(cli, cluster, ['list-machines', '--no-legend'], dir);
      return r.stdout.split('\n').filter((l) => l.trim() !== '').length === flags.machines;
    });
    out.real_boot_s = seconds(performance.now() - bootStart);

    progress(`floor: systemctl start of ${Math.ceil(flags.units / flags.machines)} units in each machine`);
    out.real_systemctl_floor_s = await measureFloor(cluster, names, Math.ceil(flags.units / flags.machines));

    const version: number[] = [];
    for (let i = 0; i < 5; i++) version.push((await fleetctlOk(cli, cluster, ['version'], dir)).s);
    out.real_version_s = median(version);

    progress(`fleetctl start --no-block of ${flags.units} units`);
    const activeIn = new Map<string, number>();
    mark('start');
    const t0 = performance.now();
    const start = await fleetctlOk(cli, cluster, ['start', '--no-block', ...instances], dir);
    out.real_start_cmd_s = start.s;
    mark('start returned');
    const etcdActive = firstTrue(`${flags.units} units active in etcd`, 300_000, async () => {
      const states = await registry.listUnitStates();
      const active = states.filter((s) => s.unit.startsWith('bench@') && s.systemd.active === 'active');
      return new Set(active.map((s) => s.unit)).size === flags.units;
    });
    const systemdActive = Promise.all(
      names.map(async (m) => {
        activeIn.set(m, 0);
        return firstTrue(`units active in ${m}'s systemd`, 300_000, async () => {
          const n = await systemdCount(cluster, m, 'bench@*', ['--state=active']);
          activeIn.set(m, n);
          return [...activeIn.values()].reduce((a, b) => a + b, 0) === flags.units;
        });
      }),
    );
    const [tEtcd, tSystemd] = await Promise.all([etcdActive, systemdActive]);
    mark('all active seen');
    out.real_all_active_etcd_s = seconds(tEtcd - t0);
    out.real_all_active_systemd_s = seconds(Math.max(...tSystemd) - t0);
    out.real_all_active_s = Math.max(out.real_all_active_etcd_s, out.real_all_active_systemd_s);
    out.real_all_active_over_floor =
      Math.round((out.real_all_active_s / out.real_systemctl_floor_s) * 100) / 100;
    for (const [m, n] of activeIn) progress(`  ${m}: ${n} active`);

    progress('fleetctl list-units / list-unit-files (median of 5)');
    const lu: number[] = [];
    const luf: number[] = [];
    for (let i = 0; i < 5; i++) {
      lu.push((await fleetctlOk(cli, cluster, ['list-units'], dir)).s);
      luf.push((await fleetctlOk(cli, cluster, ['list-unit-files'], dir)).s);
    }
    out.real_list_units_s = median(lu);
    out.real_list_unit_files_s = median(luf);
    const luDist: number[] = [];
    const versionDist: number[] = [];
    for (let i = 0; i < 5; i++) {
      luDist.push((await fleetctlOk(distCli, cluster, ['list-units'], dir)).s);
      versionDist.push((await fleetctlOk(distCli, cluster, ['version'], dir)).s);
    }
    out.real_list_units_dist_s = median(luDist);
    out.real_version_dist_s = median(versionDist);

    progress(`fleetctl destroy of ${flags.units} units`);
    mark('destroy');
    const t1 = performance.now();
    const destroy = await fleetctlOk(cli, cluster, ['destroy', ...instances], dir);
    out.real_destroy_cmd_s = destroy.s;
    mark('destroy returned');
    out.real_destroy_gone_s = seconds((await allGone(cluster, names)) - t1);
    mark('all gone seen');
    if (traceDir) await saveTrace(cluster, names, traceDir, marks);

    // fleet 1.0's figure was taken by polling list-units. Each poll is a node process (~0.15 s of CPU),
    // which would slow the machines above on two cores, so this is a second start of the same units.
    progress(`again: fleetctl start --no-block of ${flags.units} units, polling list-units`);
    const t2 = performance.now();
    await fleetctlOk(cli, cluster, ['start', '--no-block', ...instances], dir);
    const tList = await firstTrue(`list-units to show ${flags.units} active`, 300_000, async () => {
      const r = await fleetctl(cli, cluster, ['list-units', '--no-legend', '--fields=unit,active'], dir);
      return r.stdout.split('\n').filter((l) => /^bench@\S+\s+active\b/.test(l)).length === flags.units;
    });
    out.real_all_active_list_units_s = seconds(tList - t2);
    await fleetctlOk(cli, cluster, ['destroy', ...instances], dir);
    await allGone(cluster, names);
    return out;
  } finally {
    await registry.close().catch(() => undefined);
    progress('tearing the machines down');
    await cluster.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** When no bench@ unit is left in any machine's systemd (performance.now()). */
async function allGone(cluster: Cluster, machines: readonly string[]): Promise<number> {
  const gone = await Promise.all(
    machines.map((m) =>
      firstTrue(`units gone from ${m}'s systemd`, 600_000, async () => {
        return (await systemdCount(cluster, m, 'bench@*', ['--all'])) === 0;
      }),
    ),
  );
  return Math.max(...gone);
}

/** Each machine's journal (fleetd's JSON lines and systemd's own) and the run's marks, into dir. */
async function saveTrace(cluster: Cluster, machines: readonly string[], dir: string, marks: object) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'marks.json'), `${JSON.stringify(marks, null, 2)}\n`);
  for (const m of machines) {
    const r = await cluster.execOk(m, ['journalctl', '--no-pager', '-o', 'short-iso-precise'], {
      timeoutMs: 60_000,
    });
    writeFileSync(join(dir, `${m}.journal`), r);
  }
}

/** `systemctl start` of n instances of the same template directly in every machine at once (slowest). */
async function measureFloor(cluster: Cluster, machines: readonly string[], n: number): Promise<number> {
  const units = Array.from({ length: n }, (_, i) => `floor@${i + 1}.service`);
  const install = 'cat > /run/systemd/system/floor@.service && systemctl daemon-reload';
  await Promise.all(machines.map((m) => cluster.execOk(m, ['sh', '-c', install], { input: BODY })));
  const times = await Promise.all(
    machines.map(async (m) => {
      const t = performance.now();
      await cluster.execOk(m, ['systemctl', 'start', ...units], { timeoutMs: 120_000 });
      return performance.now() - t;
    }),
  );
  const cleanup = `systemctl stop 'floor@*' && rm /run/systemd/system/floor@.service && systemctl daemon-reload`;
  await Promise.all(machines.map((m) => cluster.execOk(m, ['sh', '-c', cleanup], { timeoutMs: 120_000 })));
  return seconds(Math.max(...times));
}

/** The figures with their targets (issue 16) and fleet 1.0's figure where one was measured. */
export function printRealTable(out: Record<string, number>, loadBefore: string, loadAfter: string): void {
  const rows: [string, string, string, string][] = [];
  const floor = out.real_systemctl_floor_s ?? Number.NaN;
  const row = (label: string, key: string, check?: (x: number) => boolean, goal = '') => {
    const x = out[key];
    if (x === undefined) return;
    const verdict = check ? (check(x) ? ' OK' : ' MISSED') : '';
    rows.push([label, `${x} s`, `${goal}${verdict}`, FLEET_1_0[key] ? `fleet 1.0: ${FLEET_1_0[key]}` : '']);
  };
  const n = out.real_units;
  row(
    `systemctl start, ${Math.ceil((n ?? 0) / (out.real_machines ?? 1))} units/machine (floor)`,
    'real_systemctl_floor_s',
  );
  row(`fleetctl start --no-block of ${n}`, 'real_start_cmd_s', (x) => x <= 0.3, '≤ 0.3 s');
  row(
    `start → all ${n} active (etcd + systemd)`,
    'real_all_active_s',
    (x) => x <= 1.5 && x <= 1.5 * floor,
    `≤ 1.5 s and ≤ 1.5 × floor (${Math.round(1.5 * floor * 100) / 100} s)`,
  );
  row('  … active in etcd', 'real_all_active_etcd_s');
  row("  … active in every machine's systemd", 'real_all_active_systemd_s');
  row('  … second start: list-units shows all active', 'real_all_active_list_units_s');
  row(`fleetctl list-units at ${n} (bundle, median of 5)`, 'real_list_units_s', (x) => x <= 0.1, '≤ 0.1 s');
  row(`fleetctl list-unit-files at ${n}`, 'real_list_unit_files_s');
  row('fleetctl version', 'real_version_s', (x) => x <= 0.06, '≤ 0.06 s');
  row('  … list-units from dist/ (not bundled)', 'real_list_units_dist_s');
  row('  … version from dist/', 'real_version_dist_s');
  row(`fleetctl destroy of ${n} returns`, 'real_destroy_cmd_s');
  row('destroy → gone from every systemd', 'real_destroy_gone_s', (x) => x <= 2, '≤ 2 s');
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
  console.log(
    `fleet-ts real-systemd benchmark: ${n} units on ${out.real_machines} machines ` +
      `(load average before: ${loadBefore}, after: ${loadAfter})`,
  );
  for (const r of rows)
    console.log(
      `${r[0].padEnd(w[0] ?? 0)}  ${r[1].padEnd(w[1] ?? 0)}  ${r[2].padEnd(w[2] ?? 0)}  ${r[3]}`.trimEnd(),
    );
}
