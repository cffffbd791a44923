// fleet-ts extension endpoints for operators on fleetd's API socket (and on metrics_listen):
//   GET /metrics  Prometheus text format (metrics/metrics.ts; names in docs/operations.md)
//   GET /health   200 {"status":"ok",...} when etcd answers, 503 {"status":"unhealthy",...} when it does not
// plus the route label of every API request for fleet_api_requests_total.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { metrics, metricsRegistry } from '../metrics/metrics.js';

export interface HealthReport {
  readonly healthy: boolean;
  readonly [field: string]: unknown;
}

export interface OpsEndpoints {
  /** Refreshes gauges computed on demand (units by state, ...) before a scrape. */
  beforeScrape?(): Promise<void>;
  health(): Promise<HealthReport>;
}

/** `/fleet/v1/units/web.service` -> `/fleet/v1/units/:name`; a bounded set of labels. */
export function routeLabel(path: string): string {
  if (path === '/metrics' || path === '/health') return path;
  const m = /^(\/fleet\/v1|\/v1-alpha)(\/.*)?$/.exec(path);
  if (!m) return 'other';
  const rest = m[2] ?? '';
  const known = ['', '/discovery', '/machines', '/units', '/state'];
  let route: string;
  if (known.includes(rest)) route = rest;
  else if (/^\/units\/[^/]+\/runs$/.test(rest)) route = '/units/:name/runs';
  else if (/^\/units\/[^/]+$/.test(rest)) route = '/units/:name';
  else if (/^\/state\/[^/]+$/.test(rest)) route = '/state/:name';
  else if (/^\/machines\/[^/]+\/drain$/.test(rest)) route = '/machines/:id/drain';
  else route = '/other';
  return `${m[1]}${route}`;
}

/** Counts the request once its response is finished. */
export function countRequest(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const route = routeLabel(q === -1 ? url : url.slice(0, q));
  res.on('finish', () => metrics.apiRequests.inc({ route, code: String(res.statusCode) }));
}

const write = (res: ServerResponse, status: number, type: string, body: string): void => {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
};

/** Serves /metrics and /health; false when `path` is neither (the caller routes it). */
export async function serveOps(
  ops: OpsEndpoints,
  method: string,
  path: string,
  res: ServerResponse,
): Promise<boolean> {
  if (path !== '/metrics' && path !== '/health') return false;
  if (method !== 'GET' && method !== 'HEAD') {
    write(res, 405, 'text/plain', 'only GET supported against this resource\n');
    return true;
  }
  if (path === '/metrics') {
    // A failed refresh (etcd down) must not hide the metrics that say so.
    await ops.beforeScrape?.().catch(() => undefined);
    write(res, 200, metricsRegistry.contentType, await metricsRegistry.metrics());
    return true;
  }
  const report = await ops.health();
  const { healthy, ...rest } = report;
  write(
    res,
    healthy ? 200 : 503,
    'application/json',
    `${JSON.stringify({ status: healthy ? 'ok' : 'unhealthy', ...rest })}\n`,
  );
  return true;
}
