// `npm run bench [-- --real] [--100k] [--100k-size U,M] [--quick] [--units N] [--machines M] [--json FILE] [--no-curve]`
// Runs the whole benchmark (see bench/README.md): raw etcd baseline, scheduling of N units onto M real
// agents, fleetctl list timings, machine loss and leader failover, and the scaling curve. Prints a table
// and optionally writes one flat JSON object. Exit code 1 (and a one-line error) when a run fails.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { main as fleetctlMain } from '../cli/fleetctl/program.js';
import { unitModel } from '../cli/fleetctl/unit-model.js';
import { openEtcdRegistry } from '../registry/etcd-registry.js';
import { bundle } from '../scripts/package/bundle.mjs';
import { runChild } from '../test/support/child.js';
import { errorLine, errorMessage } from '../units/common.js';
import { type BenchCluster, startBenchCluster } from './cluster.js';
import { ensureFreshDist } from './dist.js';
import { measureLeaderFailover, measureMachineLoss } from './failures.js';
import { loadAverage, seconds } from './measure.js';
import { printTable } from './print-table.js';
import { measureRaw } from './raw.js';
import { printRealTable, runRealBench } from './real.js';
import { measureScheduling, type SchedulingResult } from './scheduling.js';
import { printTargets } from './targets.js';
import { benchWorkload } from './workload.js';

interface Flags {
  units: number;
  machines: number;
  quick: boolean;
  json: string | undefined;
  curve: boolean;
  failover: boolean;
  agentTtlS: number;
  engineTtlS: number;
  maxTxnOps: number;
  curveUnits: number[] | undefined;
  curveMachines: number[] | undefined;
  /** Also the real-systemd benchmark (bench/real.ts), before the simulated one. */
  real: boolean;
  realUnits: number;
  realMachines: number;
  /** Also the curve point 100k units / 1,000 agents with peak RSS (opt-in: minutes of 2 cores). */
  c100k: boolean;
  /** Its size, units and machines (`--100k-size U,M`, for the smoke test). */
  c100kSize: [number, number];
  /** The child processes its other agents share (`--100k-agent-procs N`; 0 = the harness's own). */
  c100kAgentProcs: number;
}

const USAGE =
  'usage: bench/run.ts [--real] [--real-units N] [--real-machines M] [--100k] [--100k-size U,M] [--100k-agent-procs N] [--quick] [--units N] [--machines M] [--json FILE] [--no-curve] [--no-failover] [--agent-ttl S] [--engine-ttl S] [--max-txn-ops N] [--curve-units A,B,C] [--curve-machines A,B,C]';

function parseFlags(argv: readonly string[]): Flags {
  const f: Flags = {
    units: 0,
    machines: 0,
    quick: false,
    json: undefined,
    curve: true,
    failover: true,
    agentTtlS: 0,
    engineTtlS: 0,
    maxTxnOps: 128,
    curveUnits: undefined,
    curveMachines: undefined,
    real: false,
    realUnits: 300,
    realMachines: 3,
    c100k: false,
    c100kSize: [100_000, 1000],
    c100kAgentProcs: 4,
  };
  const list = (flag: string, v: string | undefined, min: number): number[] => {
    const parts = (v ?? '').split(',');
    if (parts.length !== 3) throw new Error(`${flag} needs three comma-separated integers`);
    return parts.map((p) => num(flag, p, min));
  };
  const num = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min)
      throw new Error(`${flag} needs an integer ≥ ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = (argv[i] ?? '').split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    if (name === '--quick') f.quick = true;
    else if (name === '--real') f.real = true;
    else if (name === '--100k') f.c100k = true;
    else if (name === '--100k-size') {
      const [u, m] = (value() ?? '').split(',');
      f.c100kSize = [num(name, u, 1), num(name, m, 2)];
    } else if (name === '--100k-agent-procs') f.c100kAgentProcs = num(name, value(), 0);
    else if (name === '--real-units') f.realUnits = num(name, value(), 1);
    else if (name === '--real-machines') f.realMachines = num(name, value(), 1);
    else if (name === '--no-curve') f.curve = false;
    else if (name === '--no-failover') f.failover = false;
    else if (name === '--units') f.units = num(name, value(), 1);
    else if (name === '--machines') f.machines = num(name, value(), 2);
    else if (name === '--agent-ttl') f.agentTtlS = num(name, value(), 1);
    else if (name === '--engine-ttl') f.engineTtlS = num(name, value(), 1);
    else if (name === '--curve-units') f.curveUnits = list(name, value(), 1);
    else if (name === '--curve-machines') f.curveMachines = list(name, value(), 2);
    else if (name === '--max-txn-ops') f.maxTxnOps = num(name, value(), 3);
    else if (name === '--json') {
      const v = value();
      if (!v) throw new Error('--json needs a file name');
      f.json = v;
    } else throw new Error(`unknown flag ${name}\n${USAGE}`);
  }
  // --quick: small enough to finish in well under a minute on a loaded 2-core machine (every curve
  // point is a fresh etcd + cluster, and the failure steps wait for TTLs, hence 2 s TTLs).
  f.units ||= f.quick ? 1000 : 10_000;
  f.machines ||= f.quick ? 10 : 100;
  f.agentTtlS ||= f.quick ? 2 : 5;
  f.engineTtlS ||= f.quick ? 2 : 5;
  return f;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The compiled CLI of an npm install (`npm run build`; ensureFreshDist checks it matches the sources). */
const FLEETCTL_JS = `${ROOT}dist/cli/fleetctl.js`;

/** Wall time of a spawned `node CLI --driver=etcd <args>` (best of 3), stdout lines. */
async function timeFleetctl(
  cli: string,
  endpoint: string,
  args: string[],
): Promise<{ s: number; lines: number }> {
  let best = Number.POSITIVE_INFINITY;
  let lines = 0;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const r = await runChild(process.execPath, [cli, '--driver=etcd', `--endpoint=${endpoint}`, ...args], {
      cwd: ROOT,
    });
    if (r.code !== 0) throw new Error(`fleetctl ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
    const out = r.stdout;
    best = Math.min(best, performance.now() - started);
    lines = out.split('\n').filter((l) => l.length > 0).length;
  }
  return { s: seconds(best), lines };
}

/** fleetctl's own work without process start-up: its main() in this process (best of 3). */
async function timeFleetctlInProcess(endpoint: string, args: string[]): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    let err = '';
    const started = performance.now();
    const code = await fleetctlMain(
      ['--driver=etcd', `--endpoint=${endpoint}`, ...args],
      {
        stdout: () => undefined,
        stderr: (t) => {
          err += t;
        },
        env: {},
        cwd: ROOT,
        readLocalFile: () => null,
        sleep,
      },
      {
        model: unitModel,
        driver: {
          openEtcd: openEtcdRegistry,
          openTunnel: () => Promise.reject(new Error('no tunnel in the benchmark')),
        },
      },
    );
    if (code !== 0) throw new Error(`fleetctl ${args.join(' ')} (in process): exit ${code}: ${err.trim()}`);
    best = Math.min(best, performance.now() - started);
  }
  return seconds(best);
}

async function withCluster<T>(
  machines: number,
  engines: number,
  flags: Flags,
  fn: (c: BenchCluster) => Promise<T>,
  children: { agentProcesses?: number; agentGroups?: number } = {},
): Promise<T> {
  const cluster = await startBenchCluster({
    machines: benchWorkload(0, machines).machines,
    engines,
    agentTtlMs: flags.agentTtlS * 1000,
    engineTtlS: flags.engineTtlS,
    maxTxnOps: flags.maxTxnOps,
    ...children,
  });
  try {
    return await fn(cluster);
  } finally {
    await cluster.stop();
  }
}

const progress = (msg: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function schedulingRun(units: number, machines: number, flags: Flags): Promise<SchedulingResult> {
  progress(`scheduling run: ${units} units on ${machines} machines`);
  return withCluster(machines, 1, flags, (c) => measureScheduling(c, benchWorkload(units, machines)));
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  ensureFreshDist(ROOT, progress);
  // fleetctl as the packages install it (one file with a code cache); dist/ is timed for comparison.
  const bundleDir = mkdtempSync(join(tmpdir(), 'fleet-ts-bench-bundle-'));
  process.once('exit', () => rmSync(bundleDir, { recursive: true, force: true }));
  const [installedCli = ''] = await bundle(bundleDir);
  const out: Record<string, number> = {};
  const started = Date.now();
  // The real machines first: they boot slowly and their figures suffer most from a busy host.
  const failed = new Map<string, string>();
  if (flags.real)
    Object.assign(
      out,
      await realRun(flags).catch((err: unknown) => stepFailed(failed, '--real', 'real-systemd run', err)),
    );
  const loadBefore = loadAverage();
  out.agent_ttl_s = flags.agentTtlS;
  out.engine_lease_ttl_s = flags.engineTtlS;
  out.etcd_max_txn_ops = flags.maxTxnOps;

  const workload = benchWorkload(flags.units, flags.machines);
  progress(`main run: ${flags.units} units on ${flags.machines} machines (load ${loadBefore})`);
  let main: SchedulingResult | undefined;
  await withCluster(flags.machines, 2, flags, async (cluster) => {
    const raw = await measureRaw(cluster.ns, flags.quick ? 1000 : 5000, 16);
    out.raw_put_per_s = Math.round(raw.putPerS);
    out.raw_txn_per_s = Math.round(raw.txnPerS);
    out.raw_concurrency = 16;
    main = await measureScheduling(cluster, workload);
    Object.assign(out, main);
    out.placements_vs_raw_put = Math.round((main.placements_per_s / raw.putPerS) * 100) / 100;
    progress('fleetctl list-units / list-unit-files');
    const endpoint = cluster.etcd.endpoint;
    const lu = await timeFleetctl(installedCli, endpoint, ['list-units']);
    const luf = await timeFleetctl(installedCli, endpoint, ['list-unit-files']);
    const version = await timeFleetctl(installedCli, endpoint, ['version']);
    out.list_units_s = lu.s;
    out.list_units_lines = lu.lines;
    out.list_unit_files_s = luf.s;
    out.list_unit_files_lines = luf.lines;
    out.fleetctl_startup_s = version.s;
    out.list_units_dist_s = (await timeFleetctl(FLEETCTL_JS, endpoint, ['list-units'])).s;
    out.fleetctl_startup_dist_s = (await timeFleetctl(FLEETCTL_JS, endpoint, ['version'])).s;
    out.list_units_in_process_s = await timeFleetctlInProcess(cluster.etcd.endpoint, ['list-units']);
    out.list_unit_files_in_process_s = await timeFleetctlInProcess(cluster.etcd.endpoint, [
      'list-unit-files',
    ]);
    progress('machine loss');
    Object.assign(out, await measureMachineLoss(cluster, workload.globals));
    if (flags.failover) {
      progress('leader failover');
      Object.assign(out, await measureLeaderFailover(cluster));
    }
  });
  if (!main) throw new Error('main run produced no result');
  const mainRun = main;

  // The unit curve runs on --machines machines, the machine curve with --units units (defaults: 100
  // and 10,000, the curve); the main run is reused for the point it already measured.
  const unitCurve = flags.curveUnits ?? (flags.quick ? [100, 500, 1000] : [1000, 10_000, 50_000]);
  const machineCurve = flags.curveMachines ?? (flags.quick ? [3, 10, 30] : [10, 100, 1000]);
  const curveUnits = flags.units;
  const labels = ['1k', '10k', '50k'];
  const mLabels = ['m10', 'm100', 'm1000'];
  const reuse = (u: number, m: number) =>
    u === mainRun.units && m === mainRun.machines ? mainRun : undefined;
  if (flags.curve) {
    for (const [i, u] of unitCurve.entries()) {
      const r = reuse(u, flags.machines) ?? (await schedulingRun(u, flags.machines, flags));
      out[`scale_${labels[i]}_s`] = r.all_active_s;
      out[`scale_${labels[i]}_units`] = u;
      out[`scale_${labels[i]}_placements_per_s`] = r.placements_per_s;
    }
    for (const [i, m] of machineCurve.entries()) {
      const r = reuse(curveUnits, m) ?? (await schedulingRun(curveUnits, m, flags));
      out[`scale_${mLabels[i]}_s`] = r.all_active_s;
      out[`scale_${mLabels[i]}_machines`] = m;
      out[`scale_${mLabels[i]}_max_foreign_watch_events`] = r.max_foreign_watch_events;
    }
    out.scale_machines_units = curveUnits;
    const s1 = out.scale_1k_s ?? 0;
    const s50 = out.scale_50k_s ?? 0;
    out.scale_50k_over_1k = s1 > 0 ? Math.round((s50 / s1) * 10) / 10 : 0;
  }
  // A failed big point (it timed out once at load 40) must not lose the figures measured before it,
  // and the targets table says it failed and why (not "not measured").
  if (flags.c100k)
    Object.assign(
      out,
      await point100k(flags).catch((err: unknown) => stepFailed(failed, '--100k', 'curve point', err)),
    );
  out.bench_wall_s = seconds(Date.now() - started);
  const loadAfter = loadAverage();
  printTable(out, loadBefore, loadAfter);
  printTargets(out, failed);
  writeJson(flags.json, out);
}

/** Notes why a step failed, for the targets table; the JSON gets `<step>_failed` = 1. */
function stepFailed(
  failed: Map<string, string>,
  flag: string,
  step: string,
  err: unknown,
): Record<string, number> {
  const why = errorLine(err);
  progress(`${step} failed: ${why}`);
  failed.set(flag, why);
  return { [flag === '--100k' ? 'scale_100k_failed' : 'real_failed']: 1 };
}

/**
 * The curve point of issue 16: 100k units on 1,000 agents, one agent in its own process for its RSS and
 * the others spread over --100k-agent-procs processes (in one, they saturated its core: 1,000 agents'
 * state polls each second, while the second core idled).
 */
async function point100k(flags: Flags): Promise<Record<string, number>> {
  const [units, machines] = flags.c100kSize;
  const groups = flags.c100kAgentProcs;
  progress(
    `curve point: ${units} units on ${machines} machines, one agent in its own process, the others in ${groups || 'the harness'}${groups ? ' processes' : ''}`,
  );
  const r = await withCluster(
    machines,
    1,
    flags,
    (c) => measureScheduling(c, benchWorkload(units, machines), progress),
    { agentProcesses: 1, agentGroups: groups },
  );
  return {
    scale_100k_units: units,
    scale_100k_machines: machines,
    scale_100k_agent_procs: groups,
    scale_100k_s: r.all_active_s,
    scale_100k_placements_per_s: r.placements_per_s,
    scale_100k_engine_cpu_s: r.engine_cpu_s,
    scale_100k_engine_peak_rss_mib: r.engine_peak_rss_mib,
    scale_100k_agent_peak_rss_mib: r.agent_peak_rss_mib,
    scale_100k_max_foreign_watch_events: r.max_foreign_watch_events,
  };
}

/** `--real`: the real-systemd benchmark (bench/real.ts), printed as its own table. */
async function realRun(flags: Flags): Promise<Record<string, number>> {
  const loadBefore = loadAverage();
  const started = Date.now();
  const real = { units: flags.realUnits, machines: flags.realMachines, agentTtlS: flags.agentTtlS };
  const out = await runRealBench(ROOT, real, progress);
  out.real_bench_wall_s = seconds(Date.now() - started);
  out.real_load_before = Number(loadBefore.split(' ')[0]);
  printRealTable(out, loadBefore, loadAverage());
  return out;
}

function writeJson(file: string | undefined, out: Record<string, number>): void {
  if (!file) return;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  progress(`wrote ${file}`);
}

// A bench stopped by a signal still runs the 'exit' handlers that kill its engine and agent children.
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
  process.once(sig, () => {
    process.stderr.write(`bench: stopped by ${sig}\n`);
    process.exit(1);
  });

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
