// Failure timings on a converged bench cluster: a machine that stops renewing its lease, and an engine
// leader killed with SIGKILL.
import type { BenchCluster } from './cluster.js';
import { seconds } from './measure.js';
import { benchWorkload } from './workload.js';

export interface MachineLossResult {
  /** Agent stopped (no more keepalives) to every unit it ran active on another machine. */
  readonly machine_loss_reschedule_s: number;
  /** Agent stopped to its machine key expiring (the lease TTL at work). */
  readonly machine_loss_detect_s: number;
  readonly machine_loss_units: number;
}

export async function measureMachineLoss(
  cluster: BenchCluster,
  globals: ReadonlySet<string>,
): Promise<MachineLossResult> {
  const victim = cluster.agents[1] ?? cluster.agents[0];
  if (!victim || cluster.agents.length < 2) throw new Error('machine loss needs at least 2 machines');
  const id = victim.machine.id;
  const { observer } = cluster;
  const moving = [...observer.scheduled]
    .filter(([unit, ms]) => ms.has(id) && !globals.has(unit))
    .map(([unit]) => unit);
  const t0 = Date.now();
  // Like a crashed machine: keepalives stop, nothing is revoked, units are left as they are.
  await victim.agent.stop({ purge: false });
  const done = await observer.until(
    `${moving.length} units of ${id} active elsewhere`,
    () =>
      moving.every((u) => {
        const on = observer.active.get(u);
        return on !== undefined && [...on].some((m) => m !== id);
      }),
    120_000,
  );
  const gone = observer.machinesGone.get(id) ?? done;
  cluster.agents.splice(cluster.agents.indexOf(victim), 1);
  return {
    machine_loss_reschedule_s: seconds(done - t0),
    machine_loss_detect_s: seconds(gone - t0),
    machine_loss_units: moving.length,
  };
}

export interface FailoverResult {
  /** Leader SIGKILLed to the first placement by its successor (a unit submitted right after the kill). */
  readonly leader_failover_s: number;
  readonly leader_failover_active_s: number;
}

export async function measureLeaderFailover(cluster: BenchCluster): Promise<FailoverResult> {
  const leader = cluster.leader();
  const successor = cluster.engines.find((e) => e !== leader && e.child.exitCode === null);
  if (!leader || !successor) throw new Error('leader failover needs a leader and a standby engine');
  const elected = successor.elected();
  elected.catch(() => undefined);
  const sample = benchWorkload(10, 2);
  const base = sample.units.find((u) => !sample.globals.has(u.name));
  if (!base) throw new Error('no unit to submit');
  const unit = { ...base, name: 'bench-after-failover.service' };
  const t0 = Date.now();
  leader.child.kill('SIGKILL');
  await cluster.submit([unit]);
  const { observer } = cluster;
  const placed = await observer.until(
    'placement after leader kill',
    () => observer.scheduled.has(unit.name),
    60_000,
  );
  const active = await observer.until(
    'unit active after leader kill',
    () => observer.active.has(unit.name),
    60_000,
  );
  return { leader_failover_s: seconds(placed - t0), leader_failover_active_s: seconds(active - t0) };
}
