// Booting one machine: `systemd-nspawn -D / --volatile=yes -b` in cgroups of its own, host0 configured
// while systemd boots, then the test sshd (its host key goes to the cluster's known_hosts).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createCgroup } from '../cgroups.js';
import { execIn, execOkIn } from './exec.js';
import { fleetConf, MASKED_UNITS, SETUP_SSHD, SSHD_CONFIG } from './machine-files.js';
import { type AddressPool, configureHost0 } from './network.js';
import { childrenOf, FatalWait, oneLine, procStart, run, tcpReachable, waitFor } from './process.js';
import { writeStateFile } from './state-file.js';
import type { ClusterState, Machine, MachineRecord, MachineSpec } from './types.js';

export const MACHINE_NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** What booting a machine needs from its cluster. */
export interface BootContext {
  readonly state: ClusterState;
  readonly projectDir: string;
  readonly hostIP: string;
  readonly etcdEndpoint: string;
  /** Public key authorized for root. */
  readonly publicKey: string;
  readonly knownHostsFile: string;
  readonly addresses: AddressPool;
  /** Start fleetd after boot when the spec does not say. */
  readonly startFleetdByDefault: boolean;
  startFleetd(name: string): Promise<void>;
}

/** The machine's config directory: fleet/fleet.conf and the test sshd's files, bind-mounted read-only. */
function writeMachineDir(ctx: BootContext, spec: MachineSpec, ip: string): string {
  const dir = join(ctx.state.tmpDir, spec.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'fleet'), { recursive: true });
  mkdirSync(join(dir, 'test'), { recursive: true });
  writeFileSync(join(dir, 'fleet', 'fleet.conf'), fleetConf(spec, ctx.etcdEndpoint, ip));
  writeFileSync(join(dir, 'test', 'sshd_config'), SSHD_CONFIG);
  writeFileSync(join(dir, 'test', 'authorized_keys'), ctx.publicKey);
  writeFileSync(join(dir, 'test', 'setup-sshd.sh'), SETUP_SSHD);
  return dir;
}

function nspawnArgs(ctx: BootContext, spec: MachineSpec, nspawnName: string, uuid: string, dir: string) {
  return [
    '-D',
    '/',
    '--volatile=yes',
    `--machine=${nspawnName}`,
    `--hostname=${spec.name}`,
    '--register=no',
    '--keep-unit',
    `--uuid=${uuid}`,
    `--network-bridge=${ctx.state.bridge}`,
    '--console=passive',
    `--bind-ro=${ctx.projectDir}:/opt/fleet-ts`,
    `--bind-ro=${join(dir, 'fleet')}:/etc/fleet`,
    `--bind-ro=${join(dir, 'test')}:/etc/fleet-test`,
    // Debian's alternatives (awk, used by MariaDB's SST scripts) are symlinks in /etc, empty here.
    ...(existsSync('/etc/alternatives') ? ['--bind-ro=/etc/alternatives'] : []),
    '-b',
    'systemd.firstboot=off',
    ...MASKED_UNITS.map((u) => `systemd.mask=${u}`),
  ];
}

export async function bootMachine(ctx: BootContext, spec: MachineSpec): Promise<Machine> {
  const { state, hostIP } = ctx;
  if (!MACHINE_NAME_RE.test(spec.name)) throw new Error(`invalid machine name ${JSON.stringify(spec.name)}`);
  if (state.machines.get(spec.name)?.running()) throw new Error(`machine ${spec.name} is already running`);
  // nspawn names the host end of the veth `vb-<--machine>`, and interface names are per host: the
  // nspawn name carries the bridge index (unique per run) and a per-cluster boot counter (a
  // machine booted again under the same name gets a fresh one). The hostname stays spec.name.
  const nspawnName = ctx.addresses.nextNspawnName();
  const veth = `vb-${nspawnName}`;
  if ((await run('ip', ['link', 'show', veth])).code === 0) {
    throw new Error(`link ${veth} already exists on this host (left over from a crashed run?)`);
  }
  const ip = ctx.addresses.claimIP(spec.ip);
  const t0 = Date.now();
  const dir = writeMachineDir(ctx, spec, ip);
  if (!state.hierarchies) throw new Error('cgroups not prepared');
  const cgDirs = createCgroup(state.hierarchies, `fleet-ts/${state.bridge}/${spec.name}`);
  const uuid = randomUUID();
  const machineID = uuid.replaceAll('-', '');
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
      ...nspawnArgs(ctx, spec, nspawnName, uuid, dir),
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
  state.machines.set(spec.name, rec);
  writeStateFile(state);

  // The network can be configured as soon as the namespace exists, while systemd boots.
  await configureHost0(leaderPid, ip, hostIP);

  const systemState = await waitFor(`systemd in ${spec.name} to finish booting`, 90_000, async () => {
    if (!alive) throw new FatalWait(`machine exited during boot: ${bootLog()}`);
    const r = await execIn(state.machines, spec.name, ['systemctl', 'is-system-running', '--wait'], {
      timeoutMs: 90_000,
    });
    const s = r.stdout.trim();
    return s === 'running' || s === 'degraded' ? s : undefined;
  });
  if (systemState === 'degraded') {
    const failed = await execIn(state.machines, spec.name, [
      'systemctl',
      '--failed',
      '--no-legend',
      '--plain',
    ]);
    appendFileSync(join(dir, 'boot.log'), `\n[harness] degraded boot; failed units:\n${failed.stdout}\n`);
  }
  await startSshd(ctx, spec.name, ip);
  (rec as { bootMs: number }).bootMs = Date.now() - t0;
  if (spec.startFleetd ?? ctx.startFleetdByDefault) await ctx.startFleetd(spec.name);
  return rec;
}

/** Starts the test sshd, records its host key in known_hosts and waits until port 22 answers. */
async function startSshd(ctx: BootContext, name: string, ip: string): Promise<void> {
  const hostKey = (await execOkIn(ctx.state.machines, name, ['sh', '/etc/fleet-test/setup-sshd.sh']))
    .trim()
    .split('\n')
    .pop();
  if (!hostKey?.startsWith('ssh-ed25519 ')) throw new Error(`[${name}] no ssh host key: ${hostKey}`);
  const [kind, key] = hostKey.split(' ');
  appendFileSync(ctx.knownHostsFile, `${ip} ${kind} ${key}\n`);
  await waitFor(`sshd of ${name} on ${ip}:22`, 20_000, async () =>
    (await tcpReachable(ip, 22)) ? true : undefined,
  );
}
