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
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CgroupHierarchies,
  cgroupPids,
  createCgroup,
  findCgroupHierarchies,
  releaseHierarchies,
  removeCgroupTree,
} from './cgroups.js';
import { type EtcdServer, startEtcd } from './etcd.js';
import { type EtcdCluster, startEtcdCluster } from './etcd-cluster.js';

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
  /** Cut the machine off from etcd ('rule': prohibit route to etcd's port; 'link': host0 down). */
  partition(machine: string, mode?: 'rule' | 'link'): Promise<void>;
  heal(machine: string): Promise<void>;
  bootMachine(spec: MachineSpec): Promise<Machine>;
  /** Removes everything the cluster created. Safe to call twice; throws after trying every step. */
  teardown(): Promise<void>;
}

// Services systemd's presets would start in a machine with an empty /etc. Debian's etcd/ssh/postgres/mariadb
// would grab ports or fight us; networkd/resolved/timesyncd would touch the network we configure;
// timers are noise; console-getty would spin on the passive console.
const MASKED_UNITS = [
  'etcd.service',
  'ssh.service',
  'ssh.socket',
  'postgresql.service',
  'mariadb.service',
  'e2scrub_reap.service',
  'nftables.service',
  'systemd-networkd.service',
  'systemd-networkd.socket',
  'systemd-network-generator.service',
  'systemd-networkd-wait-online.service',
  'systemd-resolved.service',
  'systemd-timesyncd.service',
  'systemd-homed.service',
  'systemd-userdbd.socket',
  'systemd-pstore.service',
  'systemd-sysext.service',
  'systemd-boot-update.service',
  'console-getty.service',
  'apt-daily-upgrade.timer',
  'apt-daily.timer',
  'dpkg-db-backup.timer',
  'e2scrub_all.timer',
  'fstrim.timer',
  'man-db.timer',
];

const REQUIRED_BINARIES = [
  '/usr/bin/systemd-nspawn',
  '/usr/bin/nsenter',
  '/usr/sbin/ip',
  '/usr/sbin/sshd',
  '/usr/bin/ssh',
  '/usr/bin/ssh-keygen',
];

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const STATE_DIR = '/run/fleet-ts-harness';

// ---------------------------------------------------------------------------------------------
// small process helpers

function run(
  cmd: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut)
        reject(new Error(`${cmd} ${args.join(' ')} timed out after ${opts.timeoutMs ?? 60_000} ms`));
      else resolvePromise({ code: code ?? 128, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

async function runOk(
  cmd: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number } = {},
) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${oneLine(r.stderr || r.stdout)}`);
  }
  return r.stdout;
}

/** Kernel start time of a process (field 22 of /proc/PID/stat), or null when it is gone. */
function procStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Signals pid only if it is still the process we recorded (same start time), never 0 or 1. */
function killIfSame(pid: number, start: string | null, signal: NodeJS.Signals): boolean {
  if (pid <= 1 || start === null || procStart(pid) !== start) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** A timeout for Promise.race that does not keep the process alive once the race is won. */
const deadline = (ms: number) => sleep(ms, undefined, { ref: false });

/** Thrown from a waitFor probe to stop waiting at once (e.g. the machine died). */
class FatalWait extends Error {}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      if (err instanceof FatalWait) throw new Error(`${what}: ${err.message}`);
      lastErr = (err as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${lastErr}`);
    await sleep(100);
  }
}

function tcpReachable(host: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host, port, timeout: 1000 });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
    s.once('timeout', () => {
      s.destroy();
      res(false);
    });
  });
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s.length > 0)
      .map(Number);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------
// crash leftovers: every cluster records what it started, so a later run can clean up after a crash

interface StateFile {
  ownerPid: number;
  ownerStart: string | null;
  bridge: string;
  tmpDir: string;
  cgroupDirs: string[];
  processes: { pid: number; start: string | null }[];
}

function stateFilePath(bridge: string): string {
  return join(STATE_DIR, `${bridge}.json`);
}

/**
 * Cleans up a cluster whose owner process died without teardown (crash, SIGKILL). Only processes
 * recorded in its state file, still having the recorded start time, are killed.
 */
export function cleanupStaleCluster(bridge: string): boolean {
  const file = stateFilePath(bridge);
  if (!existsSync(file)) return false;
  let st: StateFile;
  try {
    st = JSON.parse(readFileSync(file, 'utf8')) as StateFile;
  } catch {
    return false;
  }
  if (st.ownerPid > 1 && procStart(st.ownerPid) === st.ownerStart) return false; // owner alive
  for (const p of st.processes) killIfSame(p.pid, p.start, 'SIGKILL');
  const deadline = Date.now() + 5000;
  while (st.processes.some((p) => procStart(p.pid) === p.start) && Date.now() < deadline) {
    execFileSync('sleep', ['0.1']);
  }
  try {
    execFileSync('ip', ['link', 'del', st.bridge], { stdio: 'pipe' });
  } catch {
    // already gone
  }
  for (const d of st.cgroupDirs) {
    removeCgroupTree(d);
    try {
      rmdirSync(dirname(d));
    } catch {
      // in use or gone
    }
  }
  rmSync(st.tmpDir, { recursive: true, force: true });
  rmSync(file, { force: true });
  return true;
}

// ---------------------------------------------------------------------------------------------

interface MachineRecord extends Machine {
  readonly child: ChildProcess;
  readonly nspawnStart: string | null;
  readonly leaderStart: string | null;
  readonly cgroupDirs: string[];
  partition?: string[][];
  exited: Promise<void>;
}

function fleetConf(spec: MachineSpec, etcdEndpoint: string, ip: string): string {
  const lines = [`etcd_servers=${etcdEndpoint}`, `public_ip=${ip}`];
  const md = Object.entries(spec.metadata ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  if (md) lines.push(`metadata="${md}"`);
  for (const [k, v] of Object.entries(spec.fleetConf ?? {})) lines.push(`${k}=${String(v)}`);
  return `${lines.join('\n')}\n`;
}

const SSHD_CONFIG = `Port 22
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
AuthorizedKeysFile /etc/fleet-test/authorized_keys
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
PidFile none
Subsystem sftp internal-sftp
`;

// Runs inside the machine once systemd is up. /etc starts empty (volatile root): no sshd privsep
// user and root's password field is "!*" (locked, which sshd without PAM rejects even for keys).
// Only an ed25519 host key is generated: `ssh-keygen -A` would also make RSA, slower on 2 cores.
const SETUP_SSHD = `set -e
mkdir -p /etc/ssh /run/sshd
[ -f /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
getent passwd sshd >/dev/null || systemd-sysusers --inline 'u sshd - - /run/sshd /usr/sbin/nologin' >/dev/null
usermod -p '*' root
/usr/sbin/sshd -t -f /etc/fleet-test/sshd_config
systemd-run --quiet --unit=test-sshd --property=Restart=always /usr/sbin/sshd -D -e -f /etc/fleet-test/sshd_config
cat /etc/ssh/ssh_host_ed25519_key.pub
`;

function fleetServiceUnit(env: Readonly<Record<string, string>>): string {
  const envLines = Object.entries(env).map(([k, v]) => `Environment=${k}=${v}`);
  return `[Unit]
Description=fleet-ts daemon (test harness)
After=network.target

[Service]
${envLines.join('\n')}
ExecStart=/usr/bin/node /opt/fleet-ts/dist/cli/fleetd.js --config /etc/fleet/fleet.conf
Restart=no
`;
}

export async function createCluster(opts: ClusterOptions): Promise<Cluster> {
  for (const b of REQUIRED_BINARIES) {
    if (!existsSync(b))
      throw new Error(`${b} not found: install systemd-container, openssh (scripts/install-deps.sh)`);
  }
  const projectDir = resolve(opts.projectDir);
  for (const s of opts.machines) {
    if (!NAME_RE.test(s.name)) throw new Error(`invalid machine name ${JSON.stringify(s.name)}`);
  }
  if (new Set(opts.machines.map((m) => m.name)).size !== opts.machines.length) {
    throw new Error('machine names must be unique');
  }

  // Everything created from here on is undone by cleanupSync/teardown, even if a later step throws.
  const tmpDir = mkdtempSync(join(tmpdir(), 'fleet-ts-cluster-'));
  const machines = new Map<string, MachineRecord>();
  let bridge = '';
  let hierarchies: CgroupHierarchies | undefined;
  let clusterCgroup: string[] = [];
  let etcd: EtcdServer | undefined;
  let tornDown = false;

  const writeState = () => {
    if (!bridge) return;
    const st: StateFile = {
      ownerPid: process.pid,
      ownerStart: procStart(process.pid),
      bridge,
      tmpDir,
      cgroupDirs: clusterCgroup,
      processes: [...machines.values()].flatMap((m) => [
        { pid: m.nspawnPid, start: m.nspawnStart },
        { pid: m.leaderPid, start: m.leaderStart },
      ]),
    };
    mkdirSync(STATE_DIR, { recursive: true });
    writeFileSync(stateFilePath(bridge), JSON.stringify(st));
  };

  // Last resort when the test process exits without teardown (uncaught error, process.exit).
  const cleanupSync = () => {
    if (tornDown) return;
    tornDown = true;
    for (const m of machines.values()) {
      killIfSame(m.leaderPid, m.leaderStart, 'SIGKILL');
      killIfSame(m.nspawnPid, m.nspawnStart, 'SIGKILL');
    }
    if (bridge) {
      try {
        execFileSync('ip', ['link', 'del', bridge], { stdio: 'pipe' });
      } catch {
        // gone
      }
    }
    const deadline = Date.now() + 3000;
    for (const d of clusterCgroup) {
      while (!removeCgroupTree(d) && Date.now() < deadline) execFileSync('sleep', ['0.1']);
      try {
        rmdirSync(dirname(d)); // the shared fleet-ts/ parent, unless another cluster still uses it
      } catch {
        // in use or gone
      }
    }
    if (hierarchies) releaseHierarchies(hierarchies);
    rmSync(tmpDir, { recursive: true, force: true });
    if (bridge) rmSync(stateFilePath(bridge), { force: true });
  };
  process.once('exit', cleanupSync);

  try {
    // Bridge: the first flbrN that does not exist yet (parallel test files get different subnets).
    const indices =
      opts.bridgeIndex !== undefined ? [opts.bridgeIndex] : Array.from({ length: 20 }, (_, i) => i);
    for (const n of indices) {
      const name = `flbr${n}`;
      cleanupStaleCluster(name);
      const r = await run('ip', ['link', 'add', name, 'type', 'bridge']);
      if (r.code !== 0) continue;
      bridge = name;
      const hex = n.toString(16).padStart(2, '0');
      // Fixed MAC: a bridge otherwise takes its lowest port MAC, which changes when that machine
      // goes away, and the other machines lose the host until their neighbour caches expire.
      await runOk('ip', ['link', 'set', name, 'address', `02:00:0a:e7:${hex}:01`]);
      await runOk('ip', ['addr', 'add', `10.231.${n}.1/24`, 'dev', name]);
      await runOk('ip', ['link', 'set', name, 'up']);
      break;
    }
    if (!bridge) throw new Error(`no free bridge among ${indices.map((i) => `flbr${i}`).join(',')}`);
    writeState();
    const subnet = bridge.slice('flbr'.length);
    const hostIP = `10.231.${subnet}.1`;

    hierarchies = findCgroupHierarchies();
    clusterCgroup = createCgroup(hierarchies, `fleet-ts/${bridge}`);
    writeState();

    let etcdCluster: EtcdCluster | undefined;
    if ((opts.etcdMembers ?? 1) > 1) {
      etcdCluster = await startEtcdCluster({ members: opts.etcdMembers ?? 1, extraListenHosts: [hostIP] });
      etcd = allMembers(etcdCluster);
    } else etcd = await startEtcd({ extraListenHosts: [hostIP] });
    const etcdEndpoint = etcdCluster
      ? etcdCluster.endpointsOn(hostIP)
      : `http://${hostIP}:${etcd.clientPort}`;
    const etcdPorts = etcdCluster ? etcdCluster.members.map((m) => m.clientPort) : [etcd.clientPort];

    const sshKeyFile = join(tmpDir, 'id_ed25519');
    await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fleet-ts-test', '-f', sshKeyFile]);
    const publicKey = readFileSync(`${sshKeyFile}.pub`, 'utf8');
    const knownHostsFile = join(tmpDir, 'known_hosts');
    writeFileSync(knownHostsFile, '');
    let nextHost = 11;
    let bootCount = 0;
    const usedIPs = new Set<string>();
    const hasDist = () => existsSync(join(projectDir, 'dist/cli/fleetd.js'));

    const get = (name: string): MachineRecord => {
      const m = machines.get(name);
      if (!m) throw new Error(`unknown machine ${name}`);
      return m;
    };
    const prefix = (m: MachineRecord) => ['nsenter', '-t', String(m.leaderPid), '-a', '--'];

    const exec = async (
      name: string,
      cmd: readonly string[],
      o: { input?: string; timeoutMs?: number } = {},
    ) => {
      const m = get(name);
      if (!m.running()) throw new Error(`machine ${name} is not running`);
      const [bin, ...args] = [...prefix(m), ...cmd];
      return run(bin ?? 'nsenter', args, o);
    };
    const execOk = async (
      name: string,
      cmd: readonly string[],
      o: { input?: string; timeoutMs?: number } = {},
    ) => {
      const r = await exec(name, cmd, o);
      if (r.code !== 0) {
        throw new Error(
          `[${name}] ${cmd.join(' ')} failed (exit ${r.code}): ${oneLine(r.stderr || r.stdout)}`,
        );
      }
      return r.stdout;
    };

    const startFleetd = async (name: string) => {
      if (!hasDist())
        throw new Error(`${projectDir}/dist/cli/fleetd.js missing: run \`npm run build\` first`);
      const unit = fleetServiceUnit(opts.fleetdEnv ?? { FLEET_LOG_LEVEL: 'info' });
      await execOk(name, ['sh', '-c', 'cat > /run/systemd/system/fleet.service && systemctl daemon-reload'], {
        input: unit,
      });
      await execOk(name, ['systemctl', 'start', 'fleet.service']);
    };

    const bootMachine = async (spec: MachineSpec): Promise<Machine> => {
      if (!NAME_RE.test(spec.name)) throw new Error(`invalid machine name ${JSON.stringify(spec.name)}`);
      if (machines.get(spec.name)?.running()) throw new Error(`machine ${spec.name} is already running`);
      // nspawn names the host end of the veth `vb-<--machine>`, and interface names are per host: the
      // nspawn name carries the bridge index (unique per run) and a per-cluster boot counter (a
      // machine booted again under the same name gets a fresh one). The hostname stays spec.name.
      const nspawnName = `fl${subnet}m${++bootCount}`;
      const veth = `vb-${nspawnName}`;
      if ((await run('ip', ['link', 'show', veth])).code === 0) {
        throw new Error(`link ${veth} already exists on this host (left over from a crashed run?)`);
      }
      let ip = spec.ip;
      if (!ip) {
        while (usedIPs.has(`10.231.${subnet}.${nextHost}`)) nextHost++;
        ip = `10.231.${subnet}.${nextHost++}`;
      }
      usedIPs.add(ip);
      const t0 = Date.now();
      const dir = join(tmpDir, spec.name);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(join(dir, 'fleet'), { recursive: true });
      mkdirSync(join(dir, 'test'), { recursive: true });
      writeFileSync(join(dir, 'fleet', 'fleet.conf'), fleetConf(spec, etcdEndpoint, ip));
      writeFileSync(join(dir, 'test', 'sshd_config'), SSHD_CONFIG);
      writeFileSync(join(dir, 'test', 'authorized_keys'), publicKey);
      writeFileSync(join(dir, 'test', 'setup-sshd.sh'), SETUP_SSHD);
      if (!hierarchies) throw new Error('cgroups not prepared');
      const cgDirs = createCgroup(hierarchies, `fleet-ts/${bridge}/${spec.name}`);
      const uuid = randomUUID();
      const machineID = uuid.replaceAll('-', '');
      const nspawnArgs = [
        '-D',
        '/',
        '--volatile=yes',
        `--machine=${nspawnName}`,
        `--hostname=${spec.name}`,
        '--register=no',
        '--keep-unit',
        `--uuid=${uuid}`,
        `--network-bridge=${bridge}`,
        '--console=passive',
        `--bind-ro=${projectDir}:/opt/fleet-ts`,
        `--bind-ro=${join(dir, 'fleet')}:/etc/fleet`,
        `--bind-ro=${join(dir, 'test')}:/etc/fleet-test`,
        // Debian's alternatives (awk, used by MariaDB's SST scripts) are symlinks in /etc, empty here.
        ...(existsSync('/etc/alternatives') ? ['--bind-ro=/etc/alternatives'] : []),
        '-b',
        'systemd.firstboot=off',
        ...MASKED_UNITS.map((u) => `systemd.mask=${u}`),
      ];
      const logFd = openSync(join(dir, 'boot.log'), 'a');
      // The shell moves itself into the machine's cgroups, then execs nspawn: the container is
      // created inside them from the first instruction on.
      const child = spawn(
        '/bin/sh',
        [
          '-c',
          'for p in $FLEET_CGROUP_PROCS; do echo $$ > "$p/cgroup.procs" || exit 97; done; exec "$@"',
          'sh',
          'systemd-nspawn',
          ...nspawnArgs,
        ],
        {
          stdio: ['ignore', logFd, logFd],
          detached: true,
          env: { ...process.env, FLEET_CGROUP_PROCS: cgDirs.join(' ') },
        },
      );
      closeSync(logFd);
      const nspawnPid = child.pid ?? -1;
      let alive = nspawnPid > 0;
      const exited = new Promise<void>((res) => {
        child.once('exit', () => {
          alive = false;
          res();
        });
        child.once('error', () => {
          alive = false;
          res();
        });
      });
      const bootLog = () => oneLine(readFileSync(join(dir, 'boot.log'), 'utf8').slice(-1500));
      const leaderPid = await waitFor(`container systemd of ${spec.name}`, 20_000, async () => {
        if (!alive) throw new FatalWait(`systemd-nspawn exited: ${bootLog()}`);
        for (const c of childrenOf(nspawnPid)) {
          try {
            if (readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'systemd') return c;
          } catch {
            // raced
          }
        }
        return undefined;
      });
      const rec: MachineRecord = {
        name: spec.name,
        nspawnName,
        veth,
        ip,
        machineID,
        nspawnPid,
        leaderPid,
        bootMs: 0,
        dir,
        child,
        nspawnStart: procStart(nspawnPid),
        leaderStart: procStart(leaderPid),
        cgroupDirs: cgDirs,
        exited,
        running: () => alive,
      };
      machines.set(spec.name, rec);
      writeState();

      // The network can be configured as soon as the namespace exists, while systemd boots.
      const netns = ['nsenter', '-t', String(leaderPid), '-n', '--'];
      await runOk(netns[0] ?? 'nsenter', [
        ...netns.slice(1),
        'ip',
        'addr',
        'add',
        `${ip}/24`,
        'dev',
        'host0',
      ]);
      await runOk(netns[0] ?? 'nsenter', [...netns.slice(1), 'ip', 'link', 'set', 'host0', 'up']);
      await runOk(netns[0] ?? 'nsenter', [...netns.slice(1), 'ip', 'route', 'add', 'default', 'via', hostIP]);

      const state = await waitFor(`systemd in ${spec.name} to finish booting`, 90_000, async () => {
        if (!alive) throw new FatalWait(`machine exited during boot: ${bootLog()}`);
        const r = await exec(spec.name, ['systemctl', 'is-system-running', '--wait'], { timeoutMs: 90_000 });
        const s = r.stdout.trim();
        return s === 'running' || s === 'degraded' ? s : undefined;
      });
      if (state === 'degraded') {
        const failed = await exec(spec.name, ['systemctl', '--failed', '--no-legend', '--plain']);
        appendFileSync(join(dir, 'boot.log'), `\n[harness] degraded boot; failed units:\n${failed.stdout}\n`);
      }
      const hostKey = (await execOk(spec.name, ['sh', '/etc/fleet-test/setup-sshd.sh']))
        .trim()
        .split('\n')
        .pop();
      if (!hostKey?.startsWith('ssh-ed25519 ')) throw new Error(`[${spec.name}] no ssh host key: ${hostKey}`);
      const [kind, key] = hostKey.split(' ');
      appendFileSync(knownHostsFile, `${ip} ${kind} ${key}\n`);
      await waitFor(`sshd of ${spec.name} on ${ip}:22`, 20_000, async () =>
        (await tcpReachable(ip, 22)) ? true : undefined,
      );
      (rec as { bootMs: number }).bootMs = Date.now() - t0;
      if (spec.startFleetd ?? opts.startFleetd ?? false) await startFleetd(spec.name);
      return rec;
    };

    const waitGone = async (m: MachineRecord, graceMs: number): Promise<void> => {
      const timedOut = await Promise.race([m.exited.then(() => false), deadline(graceMs).then(() => true)]);
      if (timedOut) {
        killIfSame(m.leaderPid, m.leaderStart, 'SIGKILL');
        killIfSame(m.nspawnPid, m.nspawnStart, 'SIGKILL');
        await Promise.race([m.exited, deadline(10_000)]);
      }
      // The container's systemd may outlive a SIGKILLed nspawn: end it too.
      killIfSame(m.leaderPid, m.leaderStart, 'SIGKILL');
      for (const d of m.cgroupDirs) {
        const deadline = Date.now() + 10_000;
        while (!removeCgroupTree(d) && Date.now() < deadline) {
          // Anything still in this machine's cgroup was started by the machine (PIDs 0/1 excluded).
          for (const p of cgroupPids(d)) killIfSame(p, procStart(p), 'SIGKILL');
          await sleep(100);
        }
      }
    };

    const powerOff = async (name: string) => {
      const m = get(name);
      killIfSame(m.nspawnPid, m.nspawnStart, 'SIGTERM');
      await waitGone(m, 30_000);
    };
    const hardKill = async (name: string) => {
      const m = get(name);
      killIfSame(m.leaderPid, m.leaderStart, 'SIGKILL');
      await waitGone(m, 15_000);
    };

    const partition = async (name: string, mode: 'rule' | 'link' = 'rule') => {
      const m = get(name);
      if (m.partition) throw new Error(`machine ${name} is already partitioned`);
      const net = ['nsenter', '-t', String(m.leaderPid), '-n', '--', 'ip'];
      const rule = (verb: string, port: number) => [
        'rule',
        verb,
        'to',
        hostIP,
        'ipproto',
        'tcp',
        'dport',
        String(port),
        'prohibit',
      ];
      const args =
        mode === 'link' ? [['link', 'set', 'host0', 'down']] : etcdPorts.map((p) => rule('add', p));
      for (const a of args) await runOk(net[0] ?? 'nsenter', [...net.slice(1), ...a]);
      m.partition = mode === 'link' ? [['link', 'set', 'host0', 'up']] : etcdPorts.map((p) => rule('del', p));
    };
    const heal = async (name: string) => {
      const m = get(name);
      if (!m.partition) return;
      const net = ['nsenter', '-t', String(m.leaderPid), '-n', '--', 'ip'];
      for (const a of m.partition) await runOk(net[0] ?? 'nsenter', [...net.slice(1), ...a]);
      if (m.partition[0]?.[0] === 'link') {
        // Bringing host0 up again drops its routes.
        await run(net[0] ?? 'nsenter', [...net.slice(1), 'route', 'replace', 'default', 'via', hostIP]);
      }
      m.partition = undefined;
    };

    const teardown = async () => {
      if (tornDown) return;
      const errors: string[] = [];
      await Promise.all(
        [...machines.values()].map(async (m) => {
          try {
            killIfSame(m.nspawnPid, m.nspawnStart, 'SIGTERM');
            await waitGone(m, 15_000);
          } catch (err) {
            errors.push(`machine ${m.name}: ${(err as Error).message}`);
          }
        }),
      );
      try {
        await etcd?.stop();
      } catch (err) {
        errors.push(`etcd: ${(err as Error).message}`);
      }
      const r = await run('ip', ['link', 'del', bridge]);
      if (r.code !== 0 && !/Cannot find device/.test(r.stderr)) errors.push(`bridge: ${oneLine(r.stderr)}`);
      for (const d of clusterCgroup) {
        if (!removeCgroupTree(d)) errors.push(`cgroup ${d} still busy`);
        try {
          rmdirSync(dirname(d)); // the shared fleet-ts/ parent, unless another cluster still uses it
        } catch {
          // in use or gone
        }
      }
      cleanupSync(); // idempotent remainder: hierarchies, temp dir, state file
      process.removeListener('exit', cleanupSync);
      if (errors.length > 0) throw new Error(`cluster teardown: ${errors.join('; ')}`);
    };

    const cluster: Cluster = {
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
      exec,
      execOk,
      ssh: (name, command, o = {}) =>
        run(
          'ssh',
          [
            '-i',
            sshKeyFile,
            '-o',
            `UserKnownHostsFile=${knownHostsFile}`,
            '-o',
            'StrictHostKeyChecking=yes',
            '-o',
            'BatchMode=yes',
            '-o',
            'ConnectTimeout=5',
            '-o',
            'LogLevel=ERROR',
            `root@${get(name).ip}`,
            command,
          ],
          o,
        ),
      nsenterPrefix: (name) => prefix(get(name)),
      startFleetd,
      killFleetd: async (name, signal = 'SIGKILL') => {
        await execOk(name, ['systemctl', 'kill', '--signal', signal, 'fleet.service']);
      },
      powerOff,
      hardKill,
      partition,
      heal,
      bootMachine,
      teardown,
    };

    // Boot in small parallel batches: a 2-core CI box boots 3 machines at once without trouble.
    const specs = [...opts.machines];
    const concurrency = opts.bootConcurrency ?? 3;
    for (let i = 0; i < specs.length; i += concurrency) {
      const results = await Promise.allSettled(specs.slice(i, i + concurrency).map((s) => bootMachine(s)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    return cluster;
  } catch (err) {
    // Undo everything created so far, then report the original error.
    for (const m of machines.values()) {
      killIfSame(m.nspawnPid, m.nspawnStart, 'SIGTERM');
    }
    await Promise.all(
      [...machines.values()].map((m) => Promise.race([m.exited, deadline(15_000)]).then(() => undefined)),
    );
    await etcd?.stop().catch(() => {});
    cleanupSync();
    process.removeListener('exit', cleanupSync);
    throw err;
  }
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
