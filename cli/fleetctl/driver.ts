// How fleetctl reaches the cluster: --driver (or fleet's rule for an empty one) picks the etcd client
// (etcd-client.ts) or the HTTP API client (api-client.ts); both implement FleetClient (client.ts).
import { openApiClient } from './api-client.js';
import type { DriverDeps, FleetClient } from './client.js';
import { CliError } from './io.js';
import type { GlobalOptions } from './options.js';

export type DriverName = 'api' | 'etcd';

/** fleet's rule: an empty --driver picks etcd for etcd's well-known ports, the API otherwise. */
export function chooseDriver(g: Pick<GlobalOptions, 'driver' | 'endpoint'>): DriverName {
  const d = g.driver.toLowerCase();
  if (d === 'api' || d === 'etcd') return d;
  if (d === '') {
    const first = g.endpoint.split(',')[0] ?? '';
    try {
      const port = new URL(first).port;
      return port === '2379' || port === '4001' ? 'etcd' : 'api';
    } catch {
      return 'api';
    }
  }
  throw new CliError(`Unable to initialize client: unrecognized driver "${g.driver}"`);
}

/** The etcd client is imported on first use: loading etcd3 and gRPC is ~50 ms of every start otherwise. */
export async function openClient(g: GlobalOptions, deps: DriverDeps): Promise<FleetClient> {
  if (chooseDriver(g) === 'api') return openApiClient(g, deps);
  return (await import('./etcd-client.js')).openEtcdClient(g, deps);
}
