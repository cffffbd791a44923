// fleet's HTTP API v1 as a node:http request handler: routing, status codes and error texts as
// fleet 1.0 served them (see api/README.md for where fleet-ts deliberately differs).
// The handler only talks to the registry interface; sockets live in ./listen.ts.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UnitStateFilter } from '../registry/etcd-registry.js';
import { InvalidNameError } from '../registry/names-guard.js';
import type { RunRecord } from '../registry/runs.js';
import type { Registry, UnitWithTarget } from '../registry/types.js';
import { UnitNotFoundError } from '../registry/types.js';
import type { Logger } from '../units/log.js';
import { parseUnitName, validateUnitName } from '../units/names.js';
import { unitHash } from '../units/serialize.js';
import { isDesiredState } from '../units/states.js';
import type { DesiredState, MachineState, UnitOption, UnitStateReport } from '../units/types.js';
import { validateOptions } from '../units/xfleet.js';
import { BodyError, decodeMetadataOps, decodeUnitBody, type UnitBody } from './decode.js';
import { DISCOVERY_JSON } from './discovery.js';
import { apiError, apiMachine, apiPage, apiRun, apiUnit, apiUnitState } from './entities.js';
import { createListingCache } from './listing-cache.js';
import { countRequest, type OpsEndpoints, serveOps } from './ops-http.js';
import { decodePageToken, encodePageToken, type PageToken, PageTokenError, pageOf } from './page-token.js';

/**
 * What the API needs from the registry. `listRuns` (cluster cron history, the EtcdRegistry has it)
 * serves the fleet-ts extension `GET /units/<name>/runs`; without it that route answers 501.
 * `listUnitStates` gets the request's machine/unit filter so that it can read less (the EtcdRegistry
 * reads one machine's prefix); a registry may ignore it: the handler filters the reports itself.
 */
export type ApiRegistry = Pick<
  Registry,
  | 'listUnits'
  | 'getUnit'
  | 'listMachines'
  | 'createUnit'
  | 'setDesiredState'
  | 'destroyUnit'
  | 'setMachineMetadata'
> & {
  listUnitStates(filter?: UnitStateFilter): Promise<UnitStateReport[]>;
  listRuns?(unit: string, limit?: number): Promise<RunRecord[]>;
  setMachineDrained?(machineID: string, drained: boolean): Promise<void>;
};

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
}

export type ApiHandler = ((req: IncomingMessage, res: ServerResponse) => void) & {
  /** Swap the registry (fleetd on SIGHUP) without touching the sockets. */
  setRegistry(registry: ApiRegistry): void;
};

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_PAGE_LISTING_MAX_AGE_MS = 10_000;
/**
 * Decisions of one PUT before it gives up with 409. Every lost compare-and-swap means another PUT
 * won, so N concurrent writers of one unit all finish within N rounds.
 */
const PUT_ATTEMPTS = 64;
const API_ROOTS = ['/fleet/v1', '/v1-alpha'] as const;
/** Most runs one `GET /units/<name>/runs` returns (`?limit=` may ask for fewer). */
export const MAX_RUNS_LIMIT = 1000;
const RUNS_SUFFIX = '/runs';

/** An HTTP error with fleet's `{"error":{"code","message"}}` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Matches errors that mean etcd did not answer (fleet: 503 "unable to communicate with etcd"). */
function isEtcdUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return /GRPC(ConnectFailed|Unavailable|DeadlineExceeded|Cancelled)|RegistryUnavailable|ECONNREFUSED|UNAVAILABLE|DEADLINE_EXCEEDED|failed to connect|deadline/i.test(
    `${err.name} ${err.constructor.name} ${err.message}`,
  );
}

export function createApiHandler(opts: ApiHandlerOptions): ApiHandler {
  let registry = opts.registry;
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const { log, tokenLimit } = opts;
  const server = `fleetd/${opts.version}`;
  const listingOpts = {
    maxAgeMs: opts.pageListingMaxAgeMs ?? DEFAULT_PAGE_LISTING_MAX_AGE_MS,
    ...(opts.now ? { now: opts.now } : {}),
  };
  // One listing per paged endpoint: later pages are cut from the listing their first page was.
  const unitListings = createListingCache<UnitWithTarget>(listingOpts);
  const stateListings = createListingCache<UnitStateReport>(listingOpts);
  const machineListings = createListingCache<MachineState>(listingOpts);

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    res.setHeader('Server', server);
    countRequest(req, res);
    // A client that hangs up mid-request must not become an unhandled 'error' event.
    req.on('error', (err) => log.debug({ err }, 'request stream error'));
    res.on('error', (err) => log.debug({ err }, 'response stream error'));
    route(req, res).catch((err: unknown) => fail(req, res, err));
  };

  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown): void => {
    let status = 500;
    let message = '';
    if (err instanceof ApiError) {
      status = err.status;
      message = err.message;
    } else if (err instanceof InvalidNameError || err instanceof BodyError) {
      status = 400;
      message = err.message;
    } else if (err instanceof UnitNotFoundError) {
      status = 404;
      message = 'unit does not exist';
    } else if (isEtcdUnavailable(err)) {
      status = 503;
      message = 'fleet server unable to communicate with etcd';
      log.warn({ err, method: req.method, url: req.url }, 'API request failed: etcd unavailable');
    } else {
      log.error({ err, method: req.method, url: req.url }, 'API request failed');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJSON(res, status, apiError(status, message));
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
    const method = req.method ?? 'GET';
    log.debug({ method, path }, 'API request');

    if (opts.ops && (await serveOps(opts.ops, method, path, res))) return;
    if (path === '/') throw new ApiError(405, '');
    const root = API_ROOTS.find((r) => path === r || path.startsWith(`${r}/`));
    if (root === undefined) throw new ApiError(404, '');
    const rest = path.slice(root.length);
    if (rest === '') throw new ApiError(405, '');

    if (rest === '/discovery') {
      if (method !== 'GET') throw new ApiError(400, 'only HTTP GET supported against this resource');
      return send(res, 200, DISCOVERY_JSON);
    }
    if (rest === '/machines') {
      if (method === 'GET') return listMachines(res, query);
      if (method === 'PATCH') return patchMachines(req, res);
      throw new ApiError(405, 'only GET and PATCH supported against this resource');
    }
    if (rest === '/units') {
      if (method !== 'GET') throw new ApiError(405, 'only GET supported against this resource');
      return listUnits(res, query);
    }
    if (rest === '/state') {
      if (method !== 'GET') throw new ApiError(405, 'only GET supported against this resource');
      return listStates(res, query);
    }
    // fleet-ts extension: PUT/DELETE /machines/<id>/drain (docs/operations.md).
    const drain = /^\/machines\/([^/]+)\/drain$/.exec(rest);
    if (drain) return drainMachine(res, method, drain[1] as string);
    for (const [collection, methods] of [
      ['/units/', 'only GET, PUT and DELETE supported against this resource'],
      ['/state/', 'only GET supported against this resource'],
    ] as const) {
      if (!rest.startsWith(collection)) continue;
      const raw = rest.slice(collection.length);
      if (raw === '') throw new ApiError(404, '');
      // fleet-ts extension: a unit's cron runs. Unit names never contain '/', so this cannot shadow a unit.
      if (collection === '/units/' && raw.endsWith(RUNS_SUFFIX) && raw.length > RUNS_SUFFIX.length) {
        const name = itemName(raw.slice(0, -RUNS_SUFFIX.length));
        if (method !== 'GET') throw new ApiError(405, 'only GET supported against this resource');
        return listRuns(res, name, query);
      }
      const name = itemName(raw);
      if (collection === '/state/') {
        if (method !== 'GET') throw new ApiError(405, methods);
        return getState(res, name);
      }
      if (method === 'GET') return getUnit(res, name);
      if (method === 'DELETE') return destroyUnit(res, name);
      if (method === 'PUT') return putUnit(req, res, name);
      throw new ApiError(405, methods);
    }
    throw new ApiError(404, '');
  };

  // ---- drain (fleet-ts extension) ----

  const drainMachine = async (res: ServerResponse, method: string, rawID: string): Promise<void> => {
    let id: string;
    try {
      id = decodeURIComponent(rawID);
    } catch {
      throw new ApiError(400, 'invalid machine ID');
    }
    if (method !== 'PUT' && method !== 'DELETE')
      throw new ApiError(405, 'only PUT and DELETE supported against this resource');
    const current = registry;
    if (!current.setMachineDrained) throw new ApiError(501, 'drain is not available');
    if (!(await current.listMachines()).some((m) => m.id === id))
      throw new ApiError(404, 'machine does not exist');
    await current.setMachineDrained(id, method === 'PUT');
    send(res, 204);
  };

  // ---- units ----

  const listUnits = async (res: ServerResponse, query: URLSearchParams): Promise<void> => {
    const tok = pageToken(query, tokenLimit);
    const current = registry;
    const all = await unitListings.get('', tok.page === 1, () => current.listUnits());
    const page = pageOf(all, tok);
    sendJSON(res, 200, apiPage('units', page.items.map(apiUnit), page.next && encodePageToken(page.next)));
  };

  const getUnit = async (res: ServerResponse, name: string): Promise<void> => {
    const unit = validateUnitName(name) === null ? await registry.getUnit(name) : null;
    if (!unit) throw new ApiError(404, 'unit does not exist');
    sendJSON(res, 200, apiUnit(unit));
  };

  const destroyUnit = async (res: ServerResponse, name: string): Promise<void> => {
    const deleted = validateUnitName(name) === null && (await registry.destroyUnit(name));
    if (!deleted) throw new ApiError(404, 'unit does not exist');
    send(res, 204);
  };

  const putUnit = async (req: IncomingMessage, res: ServerResponse, urlName: string): Promise<void> => {
    checkContentType(req);
    const text = await readBody(req, res, maxBody);
    let body: UnitBody;
    try {
      body = decodeUnitBody(text);
    } catch (err) {
      if (err instanceof BodyError) throw new ApiError(400, `unable to decode body: ${err.message}`);
      throw err;
    }
    const name = body.name === '' ? urlName : body.name;
    if (name !== urlName) {
      throw new ApiError(
        400,
        `name in URL ${goQuote(urlName)} differs from unit name in request body ${goQuote(name)}`,
      );
    }
    const nameProblem = validateUnitName(name);
    if (nameProblem !== null) throw new ApiError(400, nameProblem);
    // fleet stored any string here and the unit became unreadable; refuse it before touching anything.
    if (body.desiredState !== '' && !isDesiredState(body.desiredState)) {
      throw new ApiError(
        400,
        `invalid desiredState ${goQuote(body.desiredState)}: expected inactive, loaded or launched`,
      );
    }
    const wanted = body.desiredState === '' ? undefined : (body.desiredState as DesiredState);
    const isTemplate = parseUnitName(name).isTemplate;
    const checkActivation = (state: DesiredState): void => {
      if (isTemplate && state !== 'inactive')
        throw new ApiError(400, `cannot activate template ${goQuote(name)}`);
    };
    const checkOptions = (options: readonly UnitOption[]): string => {
      const problem = validateOptions(options);
      if (problem !== null) throw new ApiError(400, problem);
      return unitHash(options);
    };

    // A concurrent PUT can create or delete the unit between our read and our write; the registry's
    // transactions make each write all-or-nothing, and a lost race is decided again on fresh data.
    for (let attempt = 0; attempt < PUT_ATTEMPTS; attempt++) {
      const existing = await registry.getUnit(name);
      if (!existing) {
        if (body.options.length === 0) throw new ApiError(409, 'unit does not exist and options field empty');
        const hash = checkOptions(body.options);
        const state = wanted ?? 'inactive';
        checkActivation(state);
        const created = await registry.createUnit({ name, hash, options: body.options, desiredState: state });
        if (created) return send(res, 201);
        continue;
      }
      if (body.options.length > 0 && unitHash(body.options) !== existing.hash) {
        // New contents: fleet re-creates the unit with the body's desired state (default inactive).
        const hash = checkOptions(body.options);
        const state = wanted ?? 'inactive';
        checkActivation(state);
        // Compare-and-swap on the version we decided on: if another PUT replaced it meanwhile, decide again.
        const replaced = await registry.createUnit(
          { name, hash, options: body.options, desiredState: state },
          { replace: true, expectHash: existing.hash },
        );
        if (replaced) return send(res, 201);
        continue;
      }
      if (wanted === undefined) throw new ApiError(409, 'must provide DesiredState to update existing unit');
      checkActivation(wanted);
      try {
        await registry.setDesiredState(name, wanted);
      } catch (err) {
        if (err instanceof UnitNotFoundError) continue;
        throw err;
      }
      return send(res, 204);
    }
    throw new ApiError(409, 'unit changed concurrently, try again');
  };

  /**
   * `{"runs":[...]}` newest first (an empty list stays `[]`), at most `limit`. Unknown unit without
   * runs: 404. Runs of a destroyed unit are still listed while their records exist.
   */
  const listRuns = async (res: ServerResponse, name: string, query: URLSearchParams): Promise<void> => {
    const limits = query.getAll('limit');
    if (limits.length > 1) throw new ApiError(400, 'too many values for limit');
    let limit = MAX_RUNS_LIMIT;
    if (limits.length === 1) {
      const raw = limits[0] as string;
      const n = /^[0-9]{1,9}$/.test(raw) ? Number(raw) : 0;
      if (n < 1) throw new ApiError(400, `invalid limit ${goQuote(raw)}: expected a positive integer`);
      limit = Math.min(n, MAX_RUNS_LIMIT);
    }
    if (validateUnitName(name) !== null) throw new ApiError(404, 'unit does not exist');
    const current = registry;
    if (!current.listRuns) throw new ApiError(501, 'run history is not available from this registry');
    const runs = await current.listRuns(name, limit);
    if (runs.length === 0 && !(await current.getUnit(name))) throw new ApiError(404, 'unit does not exist');
    sendJSON(res, 200, { runs: runs.map(apiRun) });
  };

  // ---- state ----

  const listStates = async (res: ServerResponse, query: URLSearchParams): Promise<void> => {
    const tok = pageToken(query, tokenLimit);
    const machineID = query.get('machineID') ?? '';
    const unitName = query.get('unitName') ?? '';
    const filter = { ...(machineID ? { machineID } : {}), ...(unitName ? { unit: unitName } : {}) };
    const current = registry;
    const all = await stateListings.get(JSON.stringify([machineID, unitName]), tok.page === 1, async () =>
      (await current.listUnitStates(filter)).filter(
        (s) => (machineID === '' || s.machineID === machineID) && (unitName === '' || s.unit === unitName),
      ),
    );
    const page = pageOf(all, tok);
    sendJSON(
      res,
      200,
      apiPage('states', page.items.map(apiUnitState), page.next && encodePageToken(page.next)),
    );
  };

  /** fleet crashed here for unknown units; fleet-ts answers 404. */
  const getState = async (res: ServerResponse, name: string): Promise<void> => {
    if (validateUnitName(name) !== null) throw new ApiError(404, 'unit does not exist');
    const state = (await registry.listUnitStates({ unit: name })).find((s) => s.unit === name);
    if (state) return sendJSON(res, 200, apiUnitState(state));
    const unit = await registry.getUnit(name);
    throw new ApiError(404, unit ? 'unit state does not exist' : 'unit does not exist');
  };

  // ---- machines ----

  const listMachines = async (res: ServerResponse, query: URLSearchParams): Promise<void> => {
    const tok = pageToken(query, tokenLimit);
    const current = registry;
    const page = pageOf(await machineListings.get('', tok.page === 1, () => current.listMachines()), tok);
    sendJSON(
      res,
      200,
      apiPage('machines', page.items.map(apiMachine), page.next && encodePageToken(page.next)),
    );
  };

  const patchMachines = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    checkContentType(req);
    const ops = decodeMetadataOps(await readBody(req, res, maxBody));
    // Everything is validated before anything is written, as fleet did.
    const writes: { machineID: string; key: string; value: string }[] = [];
    for (const op of ops) {
      if (op.op !== 'add' && op.op !== 'remove' && op.op !== 'replace') {
        throw new ApiError(400, 'invalid op: expect add, remove, or replace');
      }
      const m = METADATA_PATH.exec(op.path);
      const machineID = m?.[1];
      const key = m?.[2];
      if (machineID === undefined || key === undefined || !MACHINE_ID.test(machineID) || /^\.+$/.test(key)) {
        throw new ApiError(400, 'machine metadata path invalid');
      }
      if (op.op !== 'remove' && (op.value === undefined || op.value === '')) {
        throw new ApiError(400, 'invalid value: add and replace require a value');
      }
      // remove writes a tombstone, which also hides a key set in the machine's config.
      writes.push({ machineID, key, value: op.op === 'remove' ? '' : (op.value as string) });
    }
    for (const w of writes) await registry.setMachineMetadata(w.machineID, w.key, w.value);
    send(res, 204);
  };

  handler.setRegistry = (r: ApiRegistry): void => {
    registry = r;
    for (const listings of [unitListings, stateListings, machineListings]) listings.clear();
  };
  return handler;
}

const METADATA_PATH = /^\/([^/]+)\/metadata\/([A-Za-z0-9_.-]+)$/;
/** Machine IDs become registry keys: no `/`, no `..` (the registry refuses them too). */
const MACHINE_ID = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Go's %q for the plain strings used in messages. */
const goQuote = (s: string): string => JSON.stringify(s);

/**
 * The unit name of an item path. A name that would address another key or file (`/`, `..`,
 * control characters, also when percent-encoded) is a 400 whatever the method.
 */
function itemName(raw: string): string {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    throw new ApiError(400, `invalid URL escape in unit name ${goQuote(raw)}`);
  }
  if (name.includes('/') || name.includes('..') || /[\u0000-\u001f\u007f]/u.test(name)) {
    throw new ApiError(
      400,
      `invalid unit name ${goQuote(name)}: "/", ".." and control characters are not allowed`,
    );
  }
  return name;
}

function pageToken(query: URLSearchParams, tokenLimit: number): PageToken {
  const values = query.getAll('nextPageToken');
  if (values.length === 0) return { limit: tokenLimit, page: 1 };
  if (values.length > 1) throw new ApiError(400, 'too many values for page token');
  try {
    return decodePageToken(values[0] as string, tokenLimit);
  } catch (err) {
    if (err instanceof PageTokenError) throw new ApiError(400, err.message);
    throw err;
  }
}

/** Exactly one Content-Type, of media type application/json (parameters allowed). */
function checkContentType(req: IncomingMessage): void {
  const types = req.headersDistinct['content-type'] ?? [];
  if (types.length !== 1) throw new ApiError(415, `expected 1 Content-Type, got ${types.length}`);
  const media = (types[0] as string).split(';')[0]?.trim().toLowerCase() ?? '';
  if (media === '') throw new ApiError(415, 'mime: no media type');
  if (media !== 'application/json')
    throw new ApiError(415, 'only acceptable Content-Type is application/json');
}

/**
 * The body as text, at most `max` bytes. A larger declared or streamed body is refused with 413 at
 * once, without buffering the rest; the connection is then closed so the remainder is never read.
 */
async function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<string> {
  const tooLarge = (): ApiError => {
    res.setHeader('Connection', 'close');
    return new ApiError(413, `request body larger than ${max} bytes`);
  };
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) throw tooLarge();
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        req.pause();
        finish(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => finish());
    req.on('error', (err) => finish(err));
    req.on('aborted', () => finish(new ApiError(400, 'request aborted')));
  });
}

function send(res: ServerResponse, status: number, text?: string): void {
  if (text === undefined) {
    if (status !== 204) res.setHeader('Content-Length', '0');
    res.writeHead(status);
    res.end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendJSON(res: ServerResponse, status: number, value: object): void {
  send(res, status, JSON.stringify(value));
}
