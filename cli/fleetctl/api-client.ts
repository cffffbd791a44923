// fleetctl's API driver (`--driver=API`, fleet's default): the FleetClient over fleetd's HTTP API v1,
// as fleet's generated client used it: `<endpoint>/fleet/v1/...?alt=json`, list calls follow
// `nextPageToken`, a 404 on a unit is "not found". Endpoints: `unix:///path` (or `file://`) for the
// local socket, `http(s)://host:port` for TCP (with --ca-file/--cert-file/--key-file for TLS).

import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { type ApiMachine, type ApiUnit, type ApiUnitState, apiErrorMessage } from '../../api/schema.js';
import { isLoopbackHost, tokenProblem } from '../../api/tcp-auth.js';
import { decodeRun } from '../../registry/runs.js';
import type { CreateUnitOptions, UnitWithTarget } from '../../registry/types.js';
import { UnitNotFoundError } from '../../registry/types.js';
import { errorMessage } from '../../units/common.js';
import type { HealthReport } from '../../units/health-check.js';
import type { RunRecord } from '../../units/runs.js';
import { unitHash } from '../../units/serialize.js';
import { isDesiredState } from '../../units/states.js';
import type { MachineState, UnitOption, UnitSpec, UnitStateReport } from '../../units/types.js';
import { isGlobalUnit } from '../../units/xfleet.js';
import type { DriverDeps, FleetClient } from './client.js';
import { CliError } from './io.js';
import type { GlobalOptions } from './options.js';

/** Where the API is: a unix socket path, or an http(s) origin. */
export type ApiEndpoint =
  | { readonly kind: 'unix'; readonly path: string }
  | {
      readonly kind: 'tcp';
      readonly protocol: 'http:' | 'https:';
      readonly host: string;
      readonly port: number;
    };

const INIT = 'Unable to initialize client: ';

/** fleet's endpoint rules and messages (only the first of a comma-separated list is used). */
export function parseApiEndpoint(endpoint: string): ApiEndpoint {
  const first = endpoint.split(',')[0]?.trim() ?? '';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(first)?.[1]?.toLowerCase();
  if (scheme === undefined) throw new CliError(`${INIT}URL scheme undefined`);
  let url: URL;
  try {
    url = new URL(first);
  } catch {
    throw new CliError(`${INIT}invalid endpoint ${JSON.stringify(first)}`);
  }
  if (scheme === 'unix' || scheme === 'file') {
    // `unix://var/run/fleet.sock` makes `var` the host: fleet refused it, and so do we.
    if (url.host !== '') {
      throw new CliError(
        `${INIT}unable to connect to host ${JSON.stringify(url.host)} with scheme ${JSON.stringify(scheme)}`,
      );
    }
    const path = decodeURIComponent(url.pathname);
    if (path === '' || path === '/')
      throw new CliError(`${INIT}no socket path in endpoint ${JSON.stringify(first)}`);
    return { kind: 'unix', path };
  }
  if (scheme === 'http' || scheme === 'https') {
    const protocol = scheme === 'https' ? 'https:' : 'http:';
    const port = url.port !== '' ? Number(url.port) : protocol === 'https:' ? 443 : 80;
    return { kind: 'tcp', protocol, host: url.hostname.replace(/^\[|\]$/g, ''), port };
  }
  throw new CliError(
    `${INIT}unsupported URL scheme ${JSON.stringify(scheme)} (use unix://, http:// or https://)`,
  );
}

interface Reply {
  readonly status: number;
  readonly body: string;
}

/** Bearer token for an `api_listen` TCP endpoint: DriverDeps.apiToken, e.g. from $FLEETCTL_API_TOKEN. */
export async function openApiClient(g: GlobalOptions, deps: DriverDeps): Promise<FleetClient> {
  let ep = parseApiEndpoint(g.endpoint);
  let closeTunnel: (() => Promise<void>) | undefined;
  if (g.tunnel) {
    if (ep.kind === 'unix') {
      throw new CliError(
        `${INIT}--tunnel with a unix:// endpoint is not supported; serve the API on TCP (api_listen) or use --driver=etcd`,
      );
    }
    if (!deps.openTunnel) throw new CliError(`${INIT}--tunnel is not supported here`);
    const t = await deps.openTunnel(g, ep.host, ep.port);
    closeTunnel = () => t.close();
    ep = { ...ep, host: t.host, port: t.port };
  }
  const shown = g.tunnel ? `${g.endpoint} (through tunnel ${g.tunnel})` : g.endpoint;
  if (deps.apiToken) {
    // The token is root on every machine: never in clear text over a network (an SSH tunnel's local
    // end is loopback, so --tunnel is fine).
    const short = tokenProblem(deps.apiToken, '$FLEETCTL_API_TOKEN');
    if (short !== null) throw new CliError(`${INIT}${short}`);
    if (ep.kind === 'tcp' && ep.protocol === 'http:' && !isLoopbackHost(ep.host)) {
      throw new CliError(
        `${INIT}refusing to send $FLEETCTL_API_TOKEN in clear text to ${g.endpoint}: use an https:// endpoint, --tunnel, or a loopback address`,
      );
    }
  }
  const timeoutMs = Math.max(1, Math.round(g.requestTimeout * 1000));
  const tls =
    ep.kind === 'tcp' && ep.protocol === 'https:'
      ? {
          ...(g.caFile ? { ca: readTlsFile('--ca-file', g.caFile) } : {}),
          ...(g.certFile ? { cert: readTlsFile('--cert-file', g.certFile) } : {}),
          ...(g.keyFile ? { key: readTlsFile('--key-file', g.keyFile) } : {}),
        }
      : undefined;
  const agent = tls ? new HttpsAgent({ keepAlive: true, ...tls }) : new HttpAgent({ keepAlive: true });
  const endpoint = ep;

  const call = (method: string, path: string, body?: object): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const opts: RequestOptions = {
        method,
        path: `/fleet/v1/${path}${path.includes('?') ? '&' : '?'}alt=json`,
        agent,
        timeout: timeoutMs,
        headers: {
          ...(text !== undefined
            ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) }
            : {}),
          ...(deps.apiToken ? { Authorization: `Bearer ${deps.apiToken}` } : {}),
        },
        ...(endpoint.kind === 'unix'
          ? { socketPath: endpoint.path, host: 'domain-sock' }
          : { host: endpoint.host, port: endpoint.port }),
      };
      const req = (tls ? httpsRequest : httpRequest)(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (err) => reject(unreachable(err)));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${g.requestTimeout}s`)));
      req.on('error', (err) => reject(unreachable(err)));
      req.end(text);
    });

  const unreachable = (err: Error): CliError =>
    new CliError(
      `Error: cannot reach the fleet API at ${shown}: ${(err as NodeJS.ErrnoException).code ?? ''}${(err as NodeJS.ErrnoException).code ? ' ' : ''}${err.message}`.replace(
        / +$/,
        '',
      ),
    );

  const failed = (what: string, r: Reply): CliError => {
    const message = apiErrorMessage(r.body) ?? r.body;
    return new CliError(`Error: ${what}: fleet API answered ${r.status}${message ? `: ${message}` : ''}`);
  };

  const parse = <T>(what: string, r: Reply): T => {
    try {
      return JSON.parse(r.body) as T;
    } catch {
      throw new CliError(`Error: ${what}: the fleet API answered with invalid JSON`);
    }
  };

  /** Every page of a list, following nextPageToken. */
  const listAll = async <T>(what: string, path: string, key: string): Promise<T[]> => {
    const out: T[] = [];
    let token: string | undefined;
    for (let pages = 0; ; pages++) {
      if (pages > 100_000) throw new CliError(`Error: ${what}: the fleet API kept returning pages`);
      const q =
        token === undefined
          ? path
          : `${path}${path.includes('?') ? '&' : '?'}nextPageToken=${encodeURIComponent(token)}`;
      const r = await call('GET', q);
      if (r.status !== 200) throw failed(what, r);
      const page = parse<Record<string, unknown>>(what, r);
      const items = page[key];
      if (Array.isArray(items)) out.push(...(items as T[]));
      token =
        typeof page.nextPageToken === 'string' && page.nextPageToken !== '' ? page.nextPageToken : undefined;
      if (token === undefined) return out;
    }
  };

  const unitPath = (name: string): string => `units/${encodeURIComponent(name)}`;

  const getUnit = async (name: string): Promise<UnitWithTarget | null> => {
    const r = await call('GET', unitPath(name));
    if (r.status === 404) return null;
    if (r.status !== 200) throw failed(`retrieving unit ${name}`, r);
    return toUnit(parse<ApiUnit>(`retrieving unit ${name}`, r));
  };

  const putUnit = (name: string, body: object): Promise<Reply> =>
    call('PUT', unitPath(name), { name, ...body });

  return {
    listUnits: async () =>
      (await listAll<ApiUnit>('retrieving list of units from fleet API', 'units', 'units')).map(toUnit),
    getUnit,
    listMachines: async () =>
      (
        await listAll<ApiMachine>('retrieving list of active machines from fleet API', 'machines', 'machines')
      ).map(
        (m): MachineState => ({
          id: m.id ?? '',
          publicIP: m.primaryIP ?? '',
          metadata: m.metadata ?? {},
          version: '',
          disableEngine: false,
          ...(m.drained === true ? { drained: true } : {}),
        }),
      ),
    listUnitStates: async () =>
      (await listAll<ApiUnitState>('retrieving list of unit states from fleet API', 'state', 'states')).map(
        (s): UnitStateReport => ({
          unit: s.name ?? '',
          machineID: s.machineID ?? '',
          hash: s.hash ?? '',
          systemd: {
            load: s.systemdLoadState ?? '',
            active: s.systemdActiveState ?? '',
            sub: s.systemdSubState ?? '',
          },
          // The API does not carry what the agent did; an active unit was started, anything else only loaded.
          agentState: s.systemdActiveState === 'active' ? 'launched' : 'loaded',
          ...(typeof s.restartGeneration === 'number' && s.restartGeneration > 0
            ? { restart: s.restartGeneration }
            : {}),
          ...healthFromApi(s.health),
        }),
      ),
    createUnit: async (spec: UnitSpec, opts?: CreateUnitOptions) => {
      // Without replace an existing unit must stay untouched, but PUT would replace different
      // contents: look first (fleetctl did the same).
      if (!opts?.replace && (await getUnit(spec.name)) !== null) return false;
      // fleet's API has no compare-and-swap: expectHash is checked by reading first, which narrows the
      // window between two concurrent replacers but (unlike the etcd driver) does not close it.
      if (opts?.replace && opts.expectHash !== undefined) {
        if ((await getUnit(spec.name))?.hash !== opts.expectHash) return false;
      }
      const r = await putUnit(spec.name, { desiredState: spec.desiredState, options: spec.options });
      if (r.status === 201 || r.status === 204) return true;
      if (r.status === 409 && !opts?.replace) return false;
      throw failed(`creating unit ${spec.name}`, r);
    },
    setDesiredState: async (name, state) => {
      const r = await putUnit(name, { desiredState: state });
      if (r.status === 204 || r.status === 201) return;
      if (r.status === 409 && /does not exist/.test(r.body)) throw new UnitNotFoundError(name);
      throw failed(`setting target state of unit ${name}`, r);
    },
    destroyUnit: async (name) => {
      const r = await call('DELETE', unitPath(name));
      if (r.status === 204) return true;
      if (r.status === 404) return false;
      throw failed(`destroying unit ${name}`, r);
    },
    listRuns: async (unit: string, limit: number): Promise<RunRecord[]> => {
      const what = `retrieving runs of ${unit} from fleet API`;
      const r = await call('GET', `${unitPath(unit)}/runs?limit=${limit}`);
      if (r.status === 404 && apiErrorMessage(r.body) === 'unit does not exist') return [];
      // fleet, or a fleet-ts without the extension, answers the unknown route with 400/404/405.
      if (r.status === 400 || r.status === 404 || r.status === 405 || r.status === 501) {
        throw new CliError(
          `Error: ${what}: this fleet API does not serve run history (fleet-ts extension GET /fleet/v1/units/<name>/runs); use --driver=etcd`,
        );
      }
      if (r.status !== 200) throw failed(what, r);
      const items = parse<{ runs?: unknown }>(what, r).runs;
      if (!Array.isArray(items))
        throw new CliError(`Error: ${what}: the fleet API answered without a runs list`);
      const runs: RunRecord[] = [];
      for (const item of items) {
        try {
          runs.push(decodeRun(`${unit} run`, JSON.stringify(item)));
        } catch {
          // One malformed record must not hide the others (the etcd driver skips them too).
        }
      }
      return runs;
    },
    restartUnit: async (name: string): Promise<number> => {
      const what = `restarting unit ${name}`;
      const r = await call('POST', `${unitPath(name)}/restart`);
      if (r.status === 404 && apiErrorMessage(r.body) === 'unit does not exist')
        throw new UnitNotFoundError(name);
      if (r.status === 400 || r.status === 404 || r.status === 405 || r.status === 501) {
        throw new CliError(
          `Error: ${what}: this fleet API does not serve restart (fleet-ts extension POST /fleet/v1/units/<name>/restart); use --driver=etcd`,
        );
      }
      if (r.status !== 200) throw failed(what, r);
      const generation = parse<{ generation?: unknown }>(what, r).generation;
      if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < 1)
        throw new CliError(`Error: ${what}: the fleet API answered without a restart generation`);
      return generation;
    },
    setMachineDrained: async (machineID: string, drained: boolean) => {
      const what = `${drained ? 'draining' : 'undraining'} machine ${machineID}`;
      const r = await call(drained ? 'PUT' : 'DELETE', `machines/${encodeURIComponent(machineID)}/drain`);
      if (r.status === 204) return;
      if (
        r.status === 400 ||
        r.status === 405 ||
        r.status === 501 ||
        (r.status === 404 && !apiErrorMessage(r.body))
      ) {
        throw new CliError(
          `Error: ${what}: this fleet API does not serve drain (fleet-ts extension /fleet/v1/machines/<id>/drain); use --driver=etcd`,
        );
      }
      throw failed(what, r);
    },
    close: async () => {
      agent.destroy();
      if (closeTunnel) await closeTunnel();
    },
  };
}

function readTlsFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(`${INIT}${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
  }
}

/** The API's Unit as the CLI's unit: the hash is computed from the options, as fleetctl did. */
function toUnit(u: ApiUnit): UnitWithTarget {
  const options: UnitOption[] = (u.options ?? []).map((o) => ({
    section: o.section ?? '',
    name: o.name ?? '',
    value: o.value ?? '',
  }));
  const global = isGlobalUnit(options);
  const desired = u.desiredState ?? '';
  const current = u.currentState ?? '';
  return {
    name: u.name ?? '',
    hash: unitHash(options),
    options,
    desiredState: isDesiredState(desired) ? desired : 'inactive',
    global,
    ...(!global && u.machineID ? { machineID: u.machineID } : {}),
    ...(!global ? { currentState: isDesiredState(current) ? current : 'inactive' } : {}),
    ...(typeof u.reason === 'string' && u.reason !== '' ? { reason: u.reason } : {}),
  };
}

/** The API's `health` extension of a unit state, kept only when it is well-formed. */
function healthFromApi(h: ApiUnitState['health']): { health?: HealthReport } {
  const status = h?.status;
  if (status !== 'pending' && status !== 'healthy' && status !== 'unhealthy') return {};
  return { health: { status, ...(typeof h?.detail === 'string' ? { detail: h.detail } : {}) } };
}
