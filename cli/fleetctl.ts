#!/usr/bin/env node
// fleetctl: the command-line client of fleet-ts (fleet-compatible). See cli/fleetctl/DIFFERENCES.md.
import { openEtcdRegistry } from '../units/registry/etcd-registry.js';
import { processIO } from './fleetctl/io.js';
import { main } from './fleetctl/program.js';
import { sshTunnelOpener } from './fleetctl/tunnel.js';
import { unitModel } from './fleetctl/unit-model.js';

const io = processIO();
const code = await main(process.argv.slice(2), io, {
  model: unitModel,
  driver: {
    openEtcd: openEtcdRegistry,
    openTunnel: sshTunnelOpener(io.env),
    // Bearer token for an API served on TCP with api_token (--driver=API --endpoint=https://...).
    ...(io.env.FLEETCTL_API_TOKEN ? { apiToken: io.env.FLEETCTL_API_TOKEN } : {}),
  },
});
process.exitCode = code;
