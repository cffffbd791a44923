// Types of the nspawn harness: what tests pass in (MachineSpec, ClusterOptions) and get back (Cluster,
// Machine), plus the records the harness keeps about what it started.
import type { ChildProcess } from 'node:child_process';
import type { CgroupHierarchies } from '../cgroups.js';
import type { EtcdServer } from '../etcd.js';
import type { EtcdCluster } from '../etcd-cluster.js';

export interface MachineSpec {
  /** Machine name and hostname: lowercase letters, digits, '-', at most 63 chars. */
  readonly name: string;
  /** fleet metadata, written to fleet.conf as `metadata="k=v,..."`. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Extra fleet.conf keys (agent_ttl, disable_engine, ...). */
  readonly fleetConf?: Readonly<Record<string, string | number | boolean>>;
  /** Start fleetd as fleet.service after boot (default: the cluster's `startFleetd`). */
  readonly startFleetd?: boolean;
  /** Static address (default: next free 10.231.N.(10+k)). */
  readonly ip?: string;
}

export interface ClusterOptions {
  readonly machines: readonly MachineSpec[];
  /** Project checkout, bind-mounted read-only at /opt/fleet-ts inside every machine. */
  readonly projectDir: string;
  /** Start fleetd in every machine (needs `npm run build`; default false). */
  readonly startFleetd?: boolean;
  /** Force bridge flbrN / subnet 10.231.N.0/24 (default: the first free N in 0..19). */
  readonly bridgeIndex?: number;
  /** Environment of fleet.service (default FLEET_LOG_LEVEL=info). */
  readonly fleetdEnv?: Readonly<Record<string, string>>;
  /** Boot this many machines at once (default 3). */
  readonly bootConcurrency?: number;
  /** etcd members on the host (default 1). With more, `etcdCluster` has them and fleet.conf lists all. */
  readonly etcdMembers?: number;
}

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Machine {
  /** The name the tests use, and the machine's hostname. */
  readonly name: string;
  /** systemd-nspawn's --machine, unique on the host (flNmK); not seen inside the machine. */
  readonly nspawnName: string;
  /** Host end of the machine's veth on the bridge (`vb-<nspawnName>`). */
  readonly veth: string;
  readonly ip: string;
  /** /etc/machine-id inside (32 hex). */
  readonly machineID: string;
  /** PID of systemd-nspawn (SIGTERM = orderly power-off). */
  readonly nspawnPid: number;
  /** PID (host view) of the container's systemd; `nsenter -t` target. */
  readonly leaderPid: number;
  /** spawn → systemd running → sshd reachable, in ms. */
  readonly bootMs: number;
  /** Directory with fleet/fleet.conf, test/sshd_config, boot.log. */
  readonly dir: string;
  running(): boolean;
}

export interface Cluster {
  /** The etcd (with etcdMembers > 1: all members at once; endpoint = the first member's). */
  readonly etcd: EtcdServer;
  /** The members, with etcdMembers > 1. */
  readonly etcdCluster?: EtcdCluster;
  /** etcd as fleetctl on the host reaches it: loopback client URLs, comma-separated. */
  readonly etcdClientEndpoints: string;
  /** etcd as the machines reach it, e.g. http://10.231.0.1:41234 (comma-separated for several members) */
  readonly etcdEndpoint: string;
  readonly bridge: string;
  readonly hostIP: string;
  /** Private key authorized for root on every machine. */
  readonly sshKeyFile: string;
  /** known_hosts with every machine's generated host key. */
  readonly knownHostsFile: string;
  readonly machines: ReadonlyMap<string, Machine>;
  machine(name: string): Machine;
  /** Runs argv inside the machine (nsenter into all its namespaces). Never throws on exit codes. */
  exec(
    machine: string,
    cmd: readonly string[],
    opts?: { input?: string; timeoutMs?: number },
  ): Promise<ExecResult>;
  /** Like exec but throws (one line, with stderr) unless the exit code is 0. */
  execOk(
    machine: string,
    cmd: readonly string[],
    opts?: { input?: string; timeoutMs?: number },
  ): Promise<string>;
  /** Runs a shell command over real SSH as root. */
  ssh(machine: string, command: string, opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** argv prefix that runs a host binary inside the machine (for SystemctlDriver's commandPrefix). */
  nsenterPrefix(machine: string): string[];
  startFleetd(machine: string): Promise<void>;
  /** SIGKILL (default) fleetd's processes through systemd inside the machine. */
  killFleetd(machine: string, signal?: NodeJS.Signals): Promise<void>;
  /** Orderly power-off (SIGTERM to systemd-nspawn); resolves when the machine is gone. */
  powerOff(machine: string): Promise<void>;
  /** Sudden machine loss: SIGKILL the container's systemd from the host. */
  hardKill(machine: string): Promise<void>;
  /** Cut the machine off from etcd ('rule': etcd's ports only, connections made earlier too; 'link': host0 down). */
  partition(machine: string, mode?: 'rule' | 'link'): Promise<void>;
  heal(machine: string): Promise<void>;
  bootMachine(spec: MachineSpec): Promise<Machine>;
  /** Removes everything the cluster created. Safe to call twice; throws after trying every step. */
  teardown(): Promise<void>;
}

/** A machine as the harness sees it: the processes to signal and the cgroups to remove. */
export interface MachineRecord extends Machine {
  readonly child: ChildProcess;
  readonly nspawnStart: string | null;
  readonly leaderStart: string | null;
  readonly cgroupDirs: string[];
  partition?: string[][];
  exited: Promise<void>;
}

/** What a cluster has created so far; teardown and the exit handler undo all of it. */
export interface ClusterState {
  readonly tmpDir: string;
  readonly machines: Map<string, MachineRecord>;
  bridge: string;
  hierarchies: CgroupHierarchies | undefined;
  clusterCgroup: string[];
  etcd: EtcdServer | undefined;
  tornDown: boolean;
  /** The process 'exit' listener that runs the synchronous cleanup. */
  readonly onExit: () => void;
}
