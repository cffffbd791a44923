#!/usr/bin/env node
// fleetctl: the command-line client of fleet-ts (fleet-compatible). See cli/fleetctl/DIFFERENCES.md.
import { openEtcdRegistry } from '../units/registry/etcd-registry.js';
import { sshOptionsFromGlobals } from './fleetctl/commands/remote.js';
import { processIO } from './fleetctl/io.js';
import { main } from './fleetctl/program.js';
import { unitModel } from './fleetctl/unit-model.js';
import { openTunnel } from './ssh/index.js';

const code = await main(process.argv.slice(2), processIO(), {
  model: unitModel,
  driver: {
    openEtcd: openEtcdRegistry,
    openTunnel: async (g, host, port) => {
      const t = await openTunnel({ ...sshOptionsFromGlobals(g), tunnel: g.tunnel }, host, port);
      return { host: t.localHost, port: t.localPort, close: () => t.close() };
    },
  },
});
process.exitCode = code;
