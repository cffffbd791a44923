// fleet's HTTP API v1 as a node:http request handler: dispatch to the routes of ./routes.ts, status
// codes and error texts as fleet 1.0 served them (api/README.md says where fleet-ts differs).
// The handler only talks to the registry interface; sockets live in ./listen.ts.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../units/log.js';
import { apiError } from './entities.js';
import { errorReply } from './errors.js';
import { ApiError, sendJSON } from './http.js';
import { createListingCache, type ListingCache } from './listing-cache.js';
import { countRequest, type OpsEndpoints } from './ops-http.js';
import type { ApiContext, ApiRegistry, ApiRoute } from './route.js';
import { API_ROUTES } from './routes.js';
import type { JournalReader } from './ui/journal.js';

export interface ApiHandlerOptions {
  readonly registry: ApiRegistry;
  /** Page size (fleet's `token_limit`, default 100). */
  readonly tokenLimit: number;
  /** Sent as `Server: fleetd/<version>`. */
  readonly version: string;
  readonly log: Logger;
  /** Largest request body accepted (default 1 MiB); larger bodies get 413 without being read. */
  readonly maxBodyBytes?: number;
  /**
   * How long the listing read for a first page (no token) serves the pages requested with its
   * `nextPageToken` (default 10 s); older, those pages read afresh. See listing-cache.ts.
   */
  readonly pageListingMaxAgeMs?: number;
  /** Clock of the page listings (tests). */
  readonly now?: () => number;
  /** fleet-ts: /metrics and /health (ops-http.ts); without it those paths answer 404 as before. */
  readonly ops?: OpsEndpoints;
  /** fleet-ts: the console's journal reader (api/ui/journal.ts). */
  readonly journal?: JournalReader;
  /** The routes served (default: all of ./routes.ts). */
  readonly routes?: readonly ApiRoute[];
}

export type ApiHandler = ((req: IncomingMessage, res: ServerResponse) => void) & {
  /** Swap the registry (fleetd on SIGHUP) without touching the sockets. */
  setRegistry(registry: ApiRegistry): void;
};

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_PAGE_LISTING_MAX_AGE_MS = 10_000;
const API_ROOTS = ['/fleet/v1', '/v1-alpha'] as const;

export function createApiHandler(opts: ApiHandlerOptions): ApiHandler {
  let registry = opts.registry;
  const { log } = opts;
  const server = `fleetd/${opts.version}`;
  const routes = opts.routes ?? API_ROUTES;
  const listingOpts = {
    maxAgeMs: opts.pageListingMaxAgeMs ?? DEFAULT_PAGE_LISTING_MAX_AGE_MS,
    ...(opts.now ? { now: opts.now } : {}),
  };
  // One listing per paged endpoint: later pages are cut from the listing their first page was.
  const listings = new Map<string, ListingCache<unknown>>();
  const ctx: ApiContext = {
    registry: () => registry,
    tokenLimit: opts.tokenLimit,
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    log,
    ...(opts.ops ? { ops: opts.ops } : {}),
    ...(opts.journal ? { journal: opts.journal } : {}),
    listings: <T>(name: string): ListingCache<T> => {
      let cache = listings.get(name);
      if (!cache) {
        cache = createListingCache<unknown>(listingOpts);
        listings.set(name, cache);
      }
      return cache as ListingCache<T>;
    },
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    res.setHeader('Server', server);
    countRequest(req, res);
    // A client that hangs up mid-request must not become an unhandled 'error' event.
    req.on('error', (err) => log.debug({ err }, 'request stream error'));
    res.on('error', (err) => log.debug({ err }, 'response stream error'));
    route(req, res).catch((err: unknown) => fail(req, res, err));
  };

  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown): void => {
    const reply = errorReply(err);
    if (reply.log === 'warn')
      log.warn({ err, method: req.method, url: req.url }, 'API request failed: etcd unavailable');
    if (reply.log === 'error') log.error({ err, method: req.method, url: req.url }, 'API request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJSON(res, reply.status, apiError(reply.status, reply.message));
  };

  const serve = (
    route: ApiRoute,
    m: RegExpExecArray,
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    query: URLSearchParams,
  ) => route.serve({ req, res, method, query, params: m.slice(1) as string[] }, ctx);

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
    const method = req.method ?? 'GET';
    log.debug({ method, path }, 'API request');

    for (const r of routes) {
      const m = r.root ? r.path.exec(path) : null;
      if (m) return serve(r, m, req, res, method, query);
    }
    if (path === '/') throw new ApiError(405, '');
    const root = API_ROOTS.find((r) => path === r || path.startsWith(`${r}/`));
    if (root === undefined) throw new ApiError(404, '');
    const rest = path.slice(root.length);
    if (rest === '') throw new ApiError(405, '');
    for (const r of routes) {
      const m = r.root ? null : r.path.exec(rest);
      if (m) return serve(r, m, req, res, method, query);
    }
    throw new ApiError(404, '');
  };

  handler.setRegistry = (r: ApiRegistry): void => {
    registry = r;
    for (const cache of listings.values()) cache.clear();
  };
  return handler;
}
