// fleetd's operator endpoints and metrics wiring: /health and the gauges computed per scrape (what the
// engine leader sees of units and machines), leadership metrics, and the optional metrics_listen
// listener that serves only /metrics and /health.

import { createServer, type Server } from 'node:http';
import { type OpsEndpoints, serveOps } from '../../api/ops-http.js';
import type { ApiRegistry } from '../../api/route.js';
import type { LeaderElection } from '../../engine/leader.js';
import type { ScheduleChange } from '../../engine/store.js';
import { metrics } from '../../metrics/metrics.js';
import { errorLine } from '../../units/common.js';
import type { Logger } from '../../units/log.js';

export interface FleetdOpsDeps {
  readonly machineID: string;
  readonly version: string;
  /** The registry in use (swapped on SIGHUP). */
  registry(): ApiRegistry;
  /** This fleetd's leader election, undefined with disable_engine (swapped on SIGHUP). */
  leader(): LeaderElection | undefined;
}

export function fleetdOps(deps: FleetdOpsDeps): OpsEndpoints {
  return {
    async beforeScrape() {
      // Cluster-wide gauges come from the leader only, so summing over fleetds counts each unit once.
      metrics.units.reset();
      metrics.machineUnits.reset();
      if (!deps.leader()?.isLeader()) return;
      const registry = deps.registry();
      const [units, states] = await Promise.all([registry.listUnits(), registry.listUnitStates()]);
      for (const u of units) {
        metrics.units.inc({
          desired_state: u.desiredState,
          current_state: u.global ? 'global' : (u.currentState ?? 'inactive'),
        });
      }
      for (const s of states) metrics.machineUnits.inc({ machine: s.machineID });
    },
    async health() {
      const leader = deps.leader();
      const base = {
        machine: deps.machineID,
        version: deps.version,
        engine: leader === undefined ? 'disabled' : leader.isLeader() ? 'leader' : 'follower',
      };
      try {
        await deps.registry().listMachines();
        return { healthy: true, ...base, etcd: 'ok' };
      } catch (err) {
        return { healthy: false, ...base, etcd: `unreachable: ${errorLine(err)}` };
      }
    },
  };
}

/** Leadership metrics: fleet_engine_leader and fleet_engine_leadership_changes_total. */
export function observeLeadership(leader: LeaderElection): void {
  metrics.engineLeader.set(leader.isLeader() ? 1 : 0);
  leader.on('elected', () => {
    metrics.engineLeader.set(1);
    metrics.leadershipChanges.inc({ change: 'elected' });
  });
  leader.on('deposed', () => {
    metrics.engineLeader.set(0);
    metrics.leadershipChanges.inc({ change: 'deposed' });
  });
}

/** The engine's per-plan observations (EngineDeps.onPlanned). */
export function observePlan(seconds: number, changes: readonly ScheduleChange[]): void {
  metrics.planDuration.observe(seconds);
  metrics.placementsPerPlan.observe(changes.length);
  for (const c of changes) metrics.scheduleChanges.inc({ kind: c.kind });
}

/** metrics_listen: a plain HTTP listener serving only /metrics and /health (everything else 404). */
export async function startMetricsListener(address: string, ops: OpsEndpoints, log: Logger): Promise<Server> {
  const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(address);
  const host = m?.[1] || '127.0.0.1';
  const port = Number(m?.[2]);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    serveOps(ops, req.method ?? 'GET', path, res)
      .then((served) => {
        if (served) return;
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('only /metrics and /health are served here\n');
      })
      .catch((err: unknown) => {
        log.warn({ err: String(err) }, 'metrics request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
