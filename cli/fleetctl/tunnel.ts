// The --tunnel wiring for the etcd connection: the driver asks for "host:port reachable locally",
// this opens an SSH tunnel (cli/ssh) with the same SSH settings `fleetctl ssh` uses.
import { openTunnel } from '../ssh/index.js';
import { sshOptionsFromGlobals } from '../ssh/options.js';
import type { DriverDeps } from './client.js';

export function sshTunnelOpener(
  env: Readonly<Record<string, string | undefined>>,
): NonNullable<DriverDeps['openTunnel']> {
  return async (g, host, port) => {
    const t = await openTunnel({ ...sshOptionsFromGlobals(g, env), tunnel: g.tunnel }, host, port);
    return { host: t.localHost, port: t.localPort, close: () => t.close() };
  };
}
