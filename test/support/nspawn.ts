// A cluster of real systemd machines for integration tests, e2e tests and the demo.
//
// Each machine is `systemd-nspawn -D / --volatile=yes ... -b`: systemd 252 booting the host's own /usr
// on a throwaway tmpfs root (never boot /lib/systemd/systemd any other way: without a private root
// its tmpfiles rules empty the host's /tmp). Every machine gets:
//   - its own cgroup (see cgroups.ts), machine ID (--uuid) and hostname (--hostname);
//   - an nspawn machine name unique on the host (flNmK: bridge index N, K-th boot of this cluster),
//     so that several clusters (test runs, the demo) run side by side: nspawn names the host end of
//     the veth `vb-<machine name>`, and interface names are per host;
//   - its own network namespace with `host0` on a bridge we create (flbrN, 10.231.N.0/24, fixed MAC,
//     host side .1 where etcd also listens) and a static address 10.231.N.(10+k);
//   - the project bind-mounted read-only at /opt/fleet-ts, fleet.conf at /etc/fleet/fleet.conf;
//   - an OpenSSH server (host key generated at boot, the cluster's test key authorized for root);
//   - optionally fleetd as a real systemd service (fleet.service).
// Teardown kills only what it started, by PID (re-checked against the process start time), removes
// the bridge, cgroups, etcd and temp dirs, and also runs from a process exit handler.
//
// Modules in nspawn/: types, cluster (assembly), boot, network (bridge, host0, partitions), exec
// (nsenter, ssh), machine-stop, teardown, state-file (crash leftovers), cluster-etcd, machine-files,
// process (run, kill-if-same, waitFor).
export { createCluster } from './nspawn/cluster.js';
export { cleanupStaleCluster } from './nspawn/state-file.js';
export type { Cluster, ClusterOptions, ExecResult, Machine, MachineSpec } from './nspawn/types.js';
