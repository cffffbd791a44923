// fleetctl's etcd client (`--driver=etcd`): the registry opened on --endpoint (through --tunnel when
// given), with an unreachable etcd reported as one line.
import type { EtcdConnectionOptions } from '../../registry/types.js';
import { UnitNotFoundError } from '../../registry/types.js';
import { errorMessage } from '../../units/common.js';
import type { DriverDeps, FleetClient } from './client.js';
import { CliError } from './io.js';
import type { GlobalOptions } from './options.js';

/** etcd endpoints from --endpoint: comma-separated http(s) URLs. */
export function etcdEndpoints(endpoint: string): string[] {
  const urls = endpoint
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (urls.length === 0) throw new CliError('Unable to initialize client: --endpoint is empty');
  for (const u of urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new CliError(
        `Unable to initialize client: invalid etcd endpoint "${u}": expected http://host:port`,
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new CliError(
        `Unable to initialize client: etcd endpoint "${u}" must be an http:// or https:// URL (with --driver=etcd)`,
      );
    }
  }
  return urls;
}

export function etcdConnectionOptions(g: GlobalOptions, endpoints: readonly string[]): EtcdConnectionOptions {
  return {
    endpoints,
    keyPrefix: g.etcdKeyPrefix,
    requestTimeoutMs: Math.max(1, Math.round(g.requestTimeout * 1000)),
    ...(g.caFile ? { caFile: g.caFile } : {}),
    ...(g.certFile ? { certFile: g.certFile } : {}),
    ...(g.keyFile ? { keyFile: g.keyFile } : {}),
  };
}

const UNREACHABLE_NAMES = new Set([
  'GRPCConnectFailedError',
  'GRPCUnavailableError',
  'GRPCDeadlineExceededError',
  'GRPCCancelledError',
  'RegistryUnavailableError',
  'RegistryUnavailable',
]);

/** Whether an error means "etcd could not be reached / did not answer in time". */
export function isUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (UNREACHABLE_NAMES.has(err.name) || UNREACHABLE_NAMES.has(err.constructor.name)) return true;
  return /UNAVAILABLE|DEADLINE_EXCEEDED|deadline|ECONNREFUSED|No connection established|failed to connect/i.test(
    err.message,
  );
}

const firstLine = (s: string): string => s.split('\n')[0]?.trim() ?? '';

/**
 * Wraps a client so an unreachable etcd is reported as ONE line that says where and for how long,
 * instead of a gRPC stack trace. Errors the commands handle themselves pass through unchanged.
 */
export function guardClient(client: FleetClient, where: string): FleetClient {
  const wrap =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const started = Date.now();
      try {
        return await fn(...args);
      } catch (err) {
        if (err instanceof UnitNotFoundError || err instanceof CliError || !isUnreachable(err)) throw err;
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        throw new CliError(
          `Error: cannot reach etcd at ${where}: ${firstLine(errorMessage(err))} (after ${secs}s)`,
        );
      }
    };
  return {
    listUnits: wrap(() => client.listUnits()),
    getUnit: wrap((name: string) => client.getUnit(name)),
    listMachines: wrap(() => client.listMachines()),
    listUnitStates: wrap(() => client.listUnitStates()),
    createUnit: wrap((spec, opts) => client.createUnit(spec, opts)),
    setDesiredState: wrap((name, state) => client.setDesiredState(name, state)),
    destroyUnit: wrap((name: string) => client.destroyUnit(name)),
    ...(client.listRuns ? { listRuns: wrap(client.listRuns.bind(client)) } : {}),
    ...(client.createUnits ? { createUnits: wrap(client.createUnits.bind(client)) } : {}),
    ...(client.setDesiredStates ? { setDesiredStates: wrap(client.setDesiredStates.bind(client)) } : {}),
    ...(client.destroyUnits ? { destroyUnits: wrap(client.destroyUnits.bind(client)) } : {}),
    ...(client.restartUnit ? { restartUnit: wrap(client.restartUnit.bind(client)) } : {}),
    ...(client.setMachineDrained ? { setMachineDrained: wrap(client.setMachineDrained.bind(client)) } : {}),
    ...(client.machineHealth ? { machineHealth: wrap(client.machineHealth.bind(client)) } : {}),
    close: () => client.close(),
  };
}

/** The etcd registry for the global flags, guarded (see guardClient). */
export async function openEtcdClient(g: GlobalOptions, deps: DriverDeps): Promise<FleetClient> {
  let endpoints = etcdEndpoints(g.endpoint);
  const shown = endpoints.join(',');
  let closeTunnel: (() => Promise<void>) | undefined;
  let tlsServerName: string | undefined;
  if (g.tunnel) {
    if (!deps.openTunnel) throw new CliError('Unable to initialize client: --tunnel is not supported here');
    const target = new URL(endpoints[0] as string);
    const port = target.port ? Number(target.port) : target.protocol === 'https:' ? 443 : 80;
    // URL keeps IPv6 literals bracketed ("[::1]"); the tunnel host dials the bare address.
    const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
    let t: Awaited<ReturnType<NonNullable<DriverDeps['openTunnel']>>>;
    try {
      t = await deps.openTunnel(g, host, port);
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(
        `Unable to initialize client: cannot open SSH tunnel through ${g.tunnel}: ${firstLine(errorMessage(err))}`,
      );
    }
    closeTunnel = () => t.close();
    endpoints = [`${target.protocol}//${t.host}:${t.port}`];
    // Through the tunnel etcd is dialled at 127.0.0.1, but its certificate names the real host.
    if (target.protocol === 'https:') tlsServerName = host;
  }
  const registry = await deps.openEtcd({
    ...etcdConnectionOptions(g, endpoints),
    ...(tlsServerName ? { tlsServerName } : {}),
    ...(deps.etcdUsername ? { username: deps.etcdUsername, password: deps.etcdPassword ?? '' } : {}),
  });
  const guarded = guardClient(registry, g.tunnel ? `${shown} (through tunnel ${g.tunnel})` : shown);
  return {
    ...guarded,
    close: async () => {
      await registry.close();
      if (closeTunnel) await closeTunnel();
    },
  };
}
