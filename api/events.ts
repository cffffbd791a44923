// fleet-ts extension: GET /fleet/v1/console/events, a server-sent event stream for the web console.
// Each event is `event: snapshot` with the whole console snapshot (api/ui/schema.ts): one when the
// stream opens, then one after registry changes (one etcd watch over the whole prefix, shared by all
// streams), at most one per SNAPSHOT_MIN_INTERVAL_MS and only when it differs from the last one sent.
// A comment line every KEEPALIVE_MS keeps proxies from closing an idle stream.

import type { ServerResponse } from 'node:http';
import type { ChangeWatch } from '../registry/change-watch.js';
import { errorMessage } from '../units/common.js';
import { ApiError } from './http.js';
import { type ApiContext, type ApiRoute, byMethod } from './route.js';
import { readSnapshot } from './ui/snapshot.js';

export const SNAPSHOT_MIN_INTERVAL_MS = 250;
export const KEEPALIVE_MS = 15_000;
/** Open streams per API server; more are 503 (each reads a snapshot after every change). */
export const MAX_EVENT_STREAMS = 32;

let openStreams = 0;

export const eventRoutes: readonly ApiRoute[] = [
  {
    path: /^\/console\/events$/,
    serve: (call, ctx) =>
      byMethod(call, { GET: () => stream(call.res, ctx) }, 'only GET supported against this resource'),
  },
];

async function stream(res: ServerResponse, ctx: ApiContext): Promise<void> {
  const registry = ctx.registry();
  if (!registry.watchChanges) throw new ApiError(501, 'this registry has no change feed');
  if (openStreams >= MAX_EVENT_STREAMS) throw new ApiError(503, 'too many console event streams');
  // The first snapshot is read before the headers: an unreachable etcd is an ordinary error reply.
  let last = JSON.stringify(await readSnapshot(registry));
  openStreams++;
  let closed = false;
  let watch: ChangeWatch | undefined;
  let timer: NodeJS.Timeout | undefined;
  let reading = false;
  let again = false;
  let lastSentAt = 0;

  const close = () => {
    if (closed) return;
    closed = true;
    openStreams--;
    clearInterval(keepalive);
    if (timer) clearTimeout(timer);
    void watch?.stop();
  };
  res.on('close', close);
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',
  });
  res.write(`retry: 2000\nevent: snapshot\ndata: ${last}\n\n`);
  lastSentAt = Date.now();
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);

  const refresh = async (): Promise<void> => {
    if (closed) return;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      const text = JSON.stringify(await readSnapshot(registry));
      if (!closed && text !== last) {
        last = text;
        lastSentAt = Date.now();
        res.write(`event: snapshot\ndata: ${text}\n\n`);
      }
    } catch (err) {
      // etcd unavailable: the page keeps its last view and says so; the next change retries.
      if (!closed) res.write(`event: problem\ndata: ${JSON.stringify({ message: errorMessage(err) })}\n\n`);
    } finally {
      reading = false;
    }
    if (again) {
      again = false;
      schedule();
    }
  };
  const schedule = () => {
    if (closed || timer) return;
    const wait = Math.max(0, lastSentAt + SNAPSHOT_MIN_INTERVAL_MS - Date.now());
    timer = setTimeout(() => {
      timer = undefined;
      void refresh();
    }, wait);
  };
  try {
    watch = await registry.watchChanges(schedule);
  } catch (err) {
    ctx.log.warn({ err }, 'console event stream: cannot watch the registry');
    res.end();
    close();
    return;
  }
  if (closed) void watch.stop();
  // Anything that changed while the watch was being set up.
  schedule();
}
