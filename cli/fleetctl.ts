#!/usr/bin/env node
// fleetctl: the command-line client of fleet-ts (fleet-compatible). See cli/fleetctl/DIFFERENCES.md.
// The etcd client (etcd3, gRPC) and the SSH tunnel (ssh2) are imported only when a command opens them:
// loading them costs more than the rest of fleetctl's start-up, and `version`, `help` or the API
// driver need neither.
import { processIO } from './fleetctl/io.js';
import { main } from './fleetctl/program.js';
import { unitModel } from './fleetctl/unit-model.js';

const io = processIO();
// No top-level await: the single-file bundle is CommonJS (see scripts/package/bundle.mjs).
void main(process.argv.slice(2), io, {
  model: unitModel,
  driver: {
    openEtcd: async (opts) => (await import('../registry/etcd-registry.js')).openEtcdRegistry(opts),
    openTunnel: async (g, host, port) =>
      (await import('./fleetctl/tunnel.js')).sshTunnelOpener(io.env)(g, host, port),
    // Bearer token for an API served on TCP with api_token (--driver=API --endpoint=https://...).
    ...(io.env.FLEETCTL_API_TOKEN ? { apiToken: io.env.FLEETCTL_API_TOKEN } : {}),
    // etcd's own authentication (--driver=etcd); never a flag, which every local user sees in ps.
    ...(io.env.FLEETCTL_ETCD_USERNAME ? { etcdUsername: io.env.FLEETCTL_ETCD_USERNAME } : {}),
    ...(io.env.FLEETCTL_ETCD_PASSWORD ? { etcdPassword: io.env.FLEETCTL_ETCD_PASSWORD } : {}),
  },
}).then((code) => {
  process.exitCode = code;
});
