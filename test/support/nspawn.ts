// A cluster of real systemd machines (systemd-nspawn booting the host's /usr on a throwaway root) for
// e2e tests and the demo; the modules are in ./nspawn/. Never boot /lib/systemd/systemd any other way.
// What each machine gets and how teardown works: docs/testing.md.
export { createCluster } from './nspawn/cluster.js';
export { cleanupStaleCluster } from './nspawn/state-file.js';
export type { Cluster, ClusterOptions, ExecResult, Machine, MachineSpec } from './nspawn/types.js';
