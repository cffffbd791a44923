// One scheduling measurement on a running bench cluster: submit every unit of the workload, wait until
// every (unit, machine) pair the workload expects is reported active, and read the figures.
import { peakRssMiB } from './agent-process.js';
import type { BenchCluster } from './cluster.js';
import { diffCounters, processCpuSeconds, scrapeEtcd, seconds } from './measure.js';
import type { Workload } from './workload.js';

export interface SchedulingResult {
  readonly units: number;
  readonly machines: number;
  readonly submit_s: number;
  /** Schedule keys the engine wrote (global units once per machine). */
  readonly placements: number;
  readonly placements_per_s: number;
  /** Submit start to the last engine commit. */
  readonly placed_s: number;
  readonly all_active_s: number;
  readonly etcd_ops_per_unit: number;
  readonly etcd_puts_per_unit: number;
  readonly etcd_txns_per_unit: number;
  readonly etcd_ranges_per_unit: number;
  readonly engine_cpu_s: number;
  readonly max_foreign_watch_events: number;
  /** Peak RSS (VmHWM) of the leading engine process so far, MiB. */
  readonly engine_peak_rss_mib: number;
  /** Peak RSS of the first agent that runs in its own process (NaN when none does), MiB. */
  readonly agent_peak_rss_mib: number;
}

export async function measureScheduling(
  cluster: BenchCluster,
  workload: Workload,
  /** Called every 60 s while waiting, with how far the run got (long runs only say something). */
  progress?: (line: string) => void,
): Promise<SchedulingResult> {
  const leader = cluster.leader();
  const pid = leader?.child.pid;
  if (!leader || pid === undefined) throw new Error('no engine leader to measure');
  const commitsBefore = leader.commits.length;
  const before = await scrapeEtcd(cluster.etcd.metricsUrl);
  const cpuBefore = processCpuSeconds(pid);
  const t0 = Date.now();
  await cluster.submit(workload.units);
  const submitted = Date.now();
  const timeoutMs = 120_000 + workload.units.length * 10;
  const obs = cluster.observer;
  const ticker = setInterval(
    () =>
      progress?.(
        `${Math.round((Date.now() - t0) / 1000)} s: ${obs.scheduled.size} units scheduled, ${obs.activePairs} of ${workload.expectedActive} active, ${leader.commits.length - commitsBefore} engine commits`,
      ),
    60_000,
  );
  const activeAt = await obs
    .until(
      `${workload.expectedActive} active units (${obs.activePairs} were)`,
      () => obs.activePairs >= workload.expectedActive,
      timeoutMs,
    )
    .finally(() => clearInterval(ticker));
  const cpuAfter = processCpuSeconds(pid);
  const foreign = await Promise.all(cluster.agentProcesses.map((p) => p.foreignWatchEvents()));
  if (foreign.some((n) => n < 0)) throw new Error('a benchmark agent process exited during the run');
  const ops = diffCounters(await scrapeEtcd(cluster.etcd.metricsUrl), before);
  const commits = leader.commits.slice(commitsBefore);
  const placements = commits.reduce((n, c) => n + c.puts, 0);
  const lastCommit = commits.reduce((t, c) => Math.max(t, c.at), t0);
  const n = workload.units.length;
  const per = (x: number) => Math.round((x / n) * 100) / 100;
  return {
    units: n,
    machines: workload.machines.length,
    submit_s: seconds(submitted - t0),
    placements,
    placements_per_s: Math.round(placements / Math.max(0.001, (lastCommit - t0) / 1000)),
    placed_s: seconds(lastCommit - t0),
    all_active_s: seconds(activeAt - t0),
    etcd_ops_per_unit: per(ops.puts + ops.ranges + ops.deletes),
    etcd_puts_per_unit: per(ops.puts),
    etcd_txns_per_unit: per(ops.txns),
    etcd_ranges_per_unit: per(ops.ranges),
    engine_cpu_s: Math.round((cpuAfter - cpuBefore) * 100) / 100,
    max_foreign_watch_events: Math.max(
      0,
      ...foreign,
      ...cluster.agents.map((a) => a.store.foreignWatchEvents()),
    ),
    engine_peak_rss_mib: peakRssMiB(pid),
    agent_peak_rss_mib: peakRssMiB(cluster.agentProcesses[0]?.child.pid),
  };
}
