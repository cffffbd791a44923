// The cluster's etcd on the host: one server, or several members presented as one EtcdServer.
import { type EtcdServer, startEtcd } from '../etcd.js';
import { type EtcdCluster, startEtcdCluster } from '../etcd-cluster.js';
import type { ClusterState } from './types.js';

export interface ClusterEtcd {
  readonly etcd: EtcdServer;
  readonly etcdCluster: EtcdCluster | undefined;
  /** etcd as the machines reach it (comma-separated for several members). */
  readonly etcdEndpoint: string;
  /** Client ports a partition cuts off. */
  readonly etcdPorts: readonly number[];
}

/** Starts etcd listening on the bridge too, and records it in `state` for cleanup. */
export async function startClusterEtcd(
  state: ClusterState,
  members: number,
  hostIP: string,
): Promise<ClusterEtcd> {
  let etcdCluster: EtcdCluster | undefined;
  let etcd: EtcdServer;
  if (members > 1) {
    etcdCluster = await startEtcdCluster({ members, extraListenHosts: [hostIP] });
    etcd = allMembers(etcdCluster);
  } else etcd = await startEtcd({ extraListenHosts: [hostIP] });
  state.etcd = etcd;
  const etcdEndpoint = etcdCluster ? etcdCluster.endpointsOn(hostIP) : `http://${hostIP}:${etcd.clientPort}`;
  const etcdPorts = etcdCluster ? etcdCluster.members.map((m) => m.clientPort) : [etcd.clientPort];
  return { etcd, etcdCluster, etcdEndpoint, etcdPorts };
}

/** All members of an etcd cluster as one EtcdServer: kill/restart/stop act on every member. */
function allMembers(c: EtcdCluster): EtcdServer {
  const first = c.members[0];
  if (!first) throw new Error('etcd cluster without members');
  return {
    endpoint: first.endpoint,
    clientPort: first.clientPort,
    dataDir: '',
    metricsUrl: '',
    pid: () => -1,
    kill: async () => {
      await Promise.all(c.members.map((m) => m.kill()));
    },
    restart: async () => {
      for (const m of c.members) m.start();
      await c.waitHealthy();
    },
    pause: () => {
      throw new Error('pause is not supported for an etcd cluster');
    },
    resume: () => {},
    stop: () => c.stop(),
  };
}
