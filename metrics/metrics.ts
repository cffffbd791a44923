// fleet-ts's Prometheus metrics (prom-client), one registry per process. Every part records into the
// metrics defined here; fleetd serves the registry at /metrics (api/ on its socket, and on
// metrics_listen). Names and labels are documented in docs/operations.md; keep the two in step.
// Design notes: docs/architecture.md, "metrics/metrics.ts".

import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const metricsRegistry = new Registry();

const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const metrics = {
  engineLeader: new Gauge({
    name: 'fleet_engine_leader',
    help: '1 while this fleetd is the engine leader, else 0',
    registers: [metricsRegistry],
  }),
  leadershipChanges: new Counter({
    name: 'fleet_engine_leadership_changes_total',
    help: 'Times this fleetd became or stopped being the engine leader',
    labelNames: ['change'] as const,
    registers: [metricsRegistry],
  }),
  planDuration: new Histogram({
    name: 'fleet_engine_reconcile_duration_seconds',
    help: 'Duration of one engine planning pass (planReconcile)',
    buckets: SECONDS,
    registers: [metricsRegistry],
  }),
  placementsPerPlan: new Histogram({
    name: 'fleet_engine_placements',
    help: 'Schedule changes (placements and removals) written per planning pass',
    buckets: [0, 1, 2, 5, 10, 50, 100, 500, 1000, 5000],
    registers: [metricsRegistry],
  }),
  scheduleChanges: new Counter({
    name: 'fleet_engine_schedule_changes_total',
    help: 'Schedule entries written by the engine, by kind (put = placed, delete = removed)',
    labelNames: ['kind'] as const,
    registers: [metricsRegistry],
  }),
  unplaceable: new Gauge({
    name: 'fleet_engine_unplaceable_units',
    help: 'Active units the engine leader could not place at its last plan',
    registers: [metricsRegistry],
  }),
  units: new Gauge({
    name: 'fleet_units',
    help: 'Units by desired and current state (reported by the engine leader only)',
    labelNames: ['desired_state', 'current_state'] as const,
    registers: [metricsRegistry],
  }),
  machineUnits: new Gauge({
    name: 'fleet_machine_units',
    help: 'Units each machine reports running or loaded (reported by the engine leader only)',
    labelNames: ['machine'] as const,
    registers: [metricsRegistry],
  }),
  systemctlDuration: new Histogram({
    name: 'fleet_agent_systemctl_duration_seconds',
    help: 'Duration of the agent’s systemctl calls, by command',
    labelNames: ['command'] as const,
    buckets: SECONDS,
    registers: [metricsRegistry],
  }),
  systemctlFailures: new Counter({
    name: 'fleet_agent_systemctl_failures_total',
    help: 'systemctl calls of the agent that failed, by command',
    labelNames: ['command'] as const,
    registers: [metricsRegistry],
  }),
  fenceEvents: new Counter({
    name: 'fleet_agent_fence_events_total',
    help: 'Fence events: fenced (lease not renewed in time), unit_stopped (a StopOnDisconnect unit stopped), resumed',
    labelNames: ['event'] as const,
    registers: [metricsRegistry],
  }),
  etcdDuration: new Histogram({
    name: 'fleet_etcd_request_duration_seconds',
    help: 'Duration of etcd requests (unary calls, retries included)',
    buckets: SECONDS,
    registers: [metricsRegistry],
  }),
  etcdErrors: new Counter({
    name: 'fleet_etcd_request_errors_total',
    help: 'etcd requests that failed',
    registers: [metricsRegistry],
  }),
  watchRestarts: new Counter({
    name: 'fleet_watch_restarts_total',
    help: 'Watches that had to restart from a fresh snapshot (revision compacted, watch cancelled)',
    labelNames: ['watcher'] as const,
    registers: [metricsRegistry],
  }),
  apiRequests: new Counter({
    name: 'fleet_api_requests_total',
    help: 'HTTP API requests by route and status code',
    labelNames: ['route', 'code'] as const,
    registers: [metricsRegistry],
  }),
};

/** Every metric name above, for tests and documentation checks. */
export const METRIC_NAMES: readonly string[] = Object.values(metrics).map(
  (m) => (m as unknown as { name: string }).name,
);
