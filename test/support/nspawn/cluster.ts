// Assembling a cluster: bridge, cgroups, etcd and an SSH key on the host, then the machines in small
// parallel batches. A failure on the way undoes everything created so far.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createCgroup, findCgroupHierarchies } from '../cgroups.js';
import { type BootContext, bootMachine, MACHINE_NAME_RE } from './boot.js';
import { startClusterEtcd } from './cluster-etcd.js';
import { execIn, execOkIn, machineNamed, nsenterPrefix, sshTo } from './exec.js';
import { fleetServiceUnit } from './machine-files.js';
import { hardKill, powerOff } from './machine-stop.js';
import { addressPool, createBridge, healMachine, partitionMachine } from './network.js';
import { runOk } from './process.js';
import { writeStateFile } from './state-file.js';
import { abortCluster, createClusterState, teardownCluster } from './teardown.js';
import type { Cluster, ClusterOptions, ClusterState } from './types.js';

const REQUIRED_BINARIES = [
  '/usr/bin/systemd-nspawn',
  '/usr/bin/nsenter',
  '/usr/sbin/ip',
  '/usr/sbin/sshd',
  '/usr/bin/ssh',
  '/usr/bin/ssh-keygen',
];

export async function createCluster(opts: ClusterOptions): Promise<Cluster> {
  for (const b of REQUIRED_BINARIES) {
    if (!existsSync(b))
      throw new Error(`${b} not found: install systemd-container, openssh (scripts/install-deps.sh)`);
  }
  const projectDir = resolve(opts.projectDir);
  for (const s of opts.machines) {
    if (!MACHINE_NAME_RE.test(s.name)) throw new Error(`invalid machine name ${JSON.stringify(s.name)}`);
  }
  if (new Set(opts.machines.map((m) => m.name)).size !== opts.machines.length) {
    throw new Error('machine names must be unique');
  }

  const state = createClusterState();
  try {
    const cluster = await assemble(state, opts, projectDir);
    // Boot in small parallel batches: a 2-core CI box boots 3 machines at once without trouble.
    const specs = [...opts.machines];
    const concurrency = opts.bootConcurrency ?? 3;
    for (let i = 0; i < specs.length; i += concurrency) {
      const results = await Promise.allSettled(
        specs.slice(i, i + concurrency).map((s) => cluster.bootMachine(s)),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    return cluster;
  } catch (err) {
    // Undo everything created so far, then report the original error.
    await abortCluster(state);
    throw err;
  }
}

/** Host-side resources, then the Cluster object (no machines booted yet). */
async function assemble(state: ClusterState, opts: ClusterOptions, projectDir: string): Promise<Cluster> {
  const { machines, tmpDir } = state;
  const bridge = await createBridge(state, opts.bridgeIndex);
  writeStateFile(state);
  const subnet = bridge.slice('flbr'.length);
  const hostIP = `10.231.${subnet}.1`;

  state.hierarchies = findCgroupHierarchies();
  state.clusterCgroup = createCgroup(state.hierarchies, `fleet-ts/${bridge}`);
  writeStateFile(state);

  const { etcd, etcdCluster, etcdEndpoint, etcdPorts } = await startClusterEtcd(
    state,
    opts.etcdMembers ?? 1,
    hostIP,
  );

  const sshKeyFile = join(tmpDir, 'id_ed25519');
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fleet-ts-test', '-f', sshKeyFile]);
  const publicKey = readFileSync(`${sshKeyFile}.pub`, 'utf8');
  const knownHostsFile = join(tmpDir, 'known_hosts');
  writeFileSync(knownHostsFile, '');
  const hasDist = () => existsSync(join(projectDir, 'dist/cli/fleetd.js'));

  const get = (name: string) => machineNamed(machines, name);
  const execOk = (name: string, cmd: readonly string[], o: { input?: string; timeoutMs?: number } = {}) =>
    execOkIn(machines, name, cmd, o);

  const startFleetd = async (name: string) => {
    if (!hasDist()) throw new Error(`${projectDir}/dist/cli/fleetd.js missing: run \`npm run build\` first`);
    const unit = fleetServiceUnit(opts.fleetdEnv ?? { FLEET_LOG_LEVEL: 'info' });
    await execOk(name, ['sh', '-c', 'cat > /run/systemd/system/fleet.service && systemctl daemon-reload'], {
      input: unit,
    });
    await execOk(name, ['systemctl', 'start', 'fleet.service']);
  };

  const bootContext: BootContext = {
    state,
    projectDir,
    hostIP,
    etcdEndpoint,
    publicKey,
    knownHostsFile,
    addresses: addressPool(subnet),
    startFleetdByDefault: opts.startFleetd ?? false,
    startFleetd,
  };

  return {
    etcd,
    ...(etcdCluster ? { etcdCluster } : {}),
    etcdClientEndpoints: etcdCluster ? etcdCluster.endpoints : etcd.endpoint,
    etcdEndpoint,
    bridge,
    hostIP,
    sshKeyFile,
    knownHostsFile,
    machines,
    machine: get,
    exec: (name, cmd, o = {}) => execIn(machines, name, cmd, o),
    execOk,
    ssh: (name, command, o = {}) => sshTo(get(name), { sshKeyFile, knownHostsFile }, command, o),
    nsenterPrefix: (name) => nsenterPrefix(get(name)),
    startFleetd,
    killFleetd: async (name, signal = 'SIGKILL') => {
      await execOk(name, ['systemctl', 'kill', '--signal', signal, 'fleet.service']);
    },
    powerOff: async (name) => powerOff(get(name)),
    hardKill: async (name) => hardKill(get(name)),
    partition: async (name, mode = 'rule') => partitionMachine(get(name), hostIP, etcdPorts, mode),
    heal: async (name) => healMachine(get(name), hostIP),
    bootMachine: (spec) => bootMachine(bootContext, spec),
    teardown: () => teardownCluster(state),
  };
}
