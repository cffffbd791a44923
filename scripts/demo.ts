// The one-command demo (`npm run demo`, via scripts/demo.sh).
//
//   demo.ts start   clean up a previous run, boot 3 real systemd machines running fleetd (2 of them
//                   role=worker) with etcd on this host, run the seed-003 scenario printing every
//                   fleetctl command and its output, and leave the cluster running.
//   demo.ts stop    tear down everything the demo started.
//   demo.ts keeper  (internal) the background process that owns the cluster.
//
// Why a keeper process: the test harness (test/support/nspawn.ts) ties a cluster's lifetime to the
// process that created it (teardown on exit, etcd's stderr piped to it), which is exactly what tests
// need. The demo must return the user's shell while the cluster keeps running, so `start` spawns a
// detached keeper (own session, output to a log file) that boots the cluster through the harness and
// holds it until `stop` sends it SIGTERM, at which point the harness's own teardown runs.
//
// Every PID the demo starts is recorded with its kernel start time in /run/fleet-ts-demo/state.json;
// `stop` (and `start`, before booting) only ever signals a recorded PID that still has that start
// time, and only deletes the recorded bridge. If the keeper died hard, the harness's crash state
// (cleanupStaleCluster) and the recorded PIDs are enough to clean up.
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const STATE_DIR = '/run/fleet-ts-demo';
const STATE_FILE = join(STATE_DIR, 'state.json');
const KEEPER_LOG = join(STATE_DIR, 'keeper.log');
const UNIT_DIR = join(STATE_DIR, 'units');
const FLEETCTL = join(PROJECT, 'dist/cli/fleetctl.js');
const FLEETD = join(PROJECT, 'dist/cli/fleetd.js');

const MACHINES = [
  { name: 'demo1', metadata: {} },
  { name: 'demo2', metadata: { role: 'worker' } },
  { name: 'demo3', metadata: { role: 'worker' } },
] as const;
const PORTS = [8081, 8082] as const;

// A stand-in for Apache: a tiny HTTP server per instance that answers with the machine's hostname.
// %i is the port; %H (hostname) is expanded by systemd on the machine the unit lands on.
const APACHE_UNIT = `[Unit]
Description=Tiny web server on port %i (stands in for Apache)

[Service]
ExecStartPre=/bin/sh -c 'mkdir -p /run/www-%i && echo "hello from %H (apache@%i)" > /run/www-%i/index.html'
ExecStart=/usr/bin/python3 -m http.server %i --directory /run/www-%i

[X-Fleet]
MachineMetadata=role=worker
Conflicts=apache@*.service
`;

interface Proc {
  pid: number;
  start: string | null;
}

interface DemoState {
  keeper: Proc;
  /** Set once the keeper is up and the cluster booted; error when booting failed. */
  ready?: boolean;
  error?: string;
  bootMs?: number;
  bridge?: string;
  etcd?: Proc & { endpoint: string; dataDir: string };
  machines?: {
    name: string;
    ip: string;
    machineID: string;
    nspawn: Proc;
    leader: Proc;
  }[];
}

// ---------------------------------------------------------------------------------------------
// processes, by PID and start time only

/** Kernel start time of a process (field 22 of /proc/PID/stat), or null when it is gone. */
function procStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function proc(pid: number): Proc {
  return { pid, start: procStart(pid) };
}

/** The recorded process still runs (a zombie does not: nothing reaps orphans in some containers). */
function alive(p: Proc): boolean {
  if (p.pid <= 1 || p.start === null || procStart(p.pid) !== p.start) return false;
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function signal(p: Proc, sig: NodeJS.Signals): void {
  if (!alive(p)) return;
  try {
    process.kill(p.pid, sig);
  } catch {
    // gone meanwhile
  }
}

async function waitDead(procs: readonly Proc[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (procs.some(alive)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// state file

function readState(): DemoState | undefined {
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as DemoState;
  } catch {
    return undefined;
  }
}

function writeState(st: DemoState): void {
  mkdirSync(STATE_DIR, { recursive: true });
  const tmp = `${STATE_FILE}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(st, null, 2)}\n`);
  renameSync(tmp, STATE_FILE);
}

// ---------------------------------------------------------------------------------------------
// stop: everything a previous run recorded, whether its keeper is alive or crashed

async function stopDemo(log: (line: string) => void): Promise<boolean> {
  const st = readState();
  if (!st) {
    rmSync(STATE_DIR, { recursive: true, force: true });
    return false;
  }
  if (alive(st.keeper)) {
    // The keeper runs the harness's orderly teardown (machines power off, etcd, bridge, cgroups).
    log(`stopping the demo cluster (keeper PID ${st.keeper.pid})...`);
    signal(st.keeper, 'SIGTERM');
    if (!(await waitDead([st.keeper], 90_000))) {
      log('the keeper did not finish its teardown in 90 s; killing what it recorded');
      signal(st.keeper, 'SIGKILL');
    }
  } else {
    log('cleaning up after a demo whose keeper is gone...');
  }
  // Whatever is still there (keeper crashed or was killed): recorded PIDs only.
  const leftovers: Proc[] = [];
  for (const m of st.machines ?? []) leftovers.push(m.leader, m.nspawn);
  if (st.etcd) leftovers.push(st.etcd);
  for (const p of leftovers) signal(p, 'SIGKILL');
  await waitDead(leftovers, 10_000);
  if (st.bridge) {
    // The harness's crash record (owner = the dead keeper) covers cgroups and its temp dir.
    const { cleanupStaleCluster } = await import('../test/support/nspawn.js');
    cleanupStaleCluster(st.bridge);
    const links = spawnSync('ip', ['-o', 'link', 'show', 'dev', st.bridge], { encoding: 'utf8' });
    if (links.status === 0) spawnSync('ip', ['link', 'del', st.bridge], { stdio: 'ignore' });
  }
  if (st.etcd?.dataDir.startsWith('/tmp/fleet-ts-etcd-'))
    rmSync(st.etcd.dataDir, { recursive: true, force: true });
  const stillThere = leftovers.filter(alive).map((p) => p.pid);
  rmSync(STATE_DIR, { recursive: true, force: true });
  if (stillThere.length > 0) throw new Error(`processes still running after stop: ${stillThere.join(' ')}`);
  return true;
}

// ---------------------------------------------------------------------------------------------
// keeper: boots the cluster through the harness and holds it until SIGTERM

async function keeper(): Promise<void> {
  const self = proc(process.pid);
  let stopping = false;
  const { createCluster } = await import('../test/support/nspawn.js');
  const t0 = Date.now();
  let cluster: Awaited<ReturnType<typeof createCluster>> | undefined;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      let code = 0;
      try {
        await cluster?.teardown();
      } catch (err) {
        console.error(`teardown: ${(err as Error).message}`);
        code = 1;
      }
      process.exit(code);
    })();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => {}); // the terminal that started the demo may close
  try {
    cluster = await createCluster({
      machines: MACHINES.map((m) => ({
        name: m.name,
        metadata: m.metadata,
        // Short TTL: a powered-off machine's units move within seconds when someone tries that.
        fleetConf: { agent_ttl: '10s' },
      })),
      projectDir: PROJECT,
      startFleetd: true,
      fleetdEnv: { FLEET_LOG_LEVEL: 'warn' },
    });
  } catch (err) {
    writeState({ keeper: self, error: (err as Error).message });
    process.exit(1);
  }
  if (stopping) return; // teardown already under way
  const c = cluster;
  writeState({
    keeper: self,
    ready: true,
    bootMs: Date.now() - t0,
    bridge: c.bridge,
    etcd: { ...proc(c.etcd.pid()), endpoint: c.etcd.endpoint, dataDir: c.etcd.dataDir },
    machines: [...c.machines.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((m) => ({
        name: m.name,
        ip: m.ip,
        machineID: m.machineID,
        nspawn: proc(m.nspawnPid),
        leader: proc(m.leaderPid),
      })),
  });
  console.log(`cluster ready on ${c.bridge}, etcd ${c.etcd.endpoint}`);
  setInterval(() => {}, 1 << 30); // hold the cluster until a signal
}

// ---------------------------------------------------------------------------------------------
// start: the scenario, printed as a user would type it

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function fleetctlRaw(endpoint: string, args: readonly string[], timeoutMs = 120_000): Run {
  const r = spawnSync(process.execPath, [FLEETCTL, ...args], {
    cwd: UNIT_DIR,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, FLEETCTL_DRIVER: 'etcd', FLEETCTL_ENDPOINT: endpoint },
  });
  if (r.error) throw new Error(`fleetctl ${args.join(' ')}: ${r.error.message}`);
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** Prints `$ fleetctl ARGS` and its output, as in a terminal; fails the demo on a non-zero exit. */
function shown(endpoint: string, args: readonly string[]): Run {
  console.log(`\n$ fleetctl ${args.join(' ')}`);
  const r = fleetctlRaw(endpoint, args);
  process.stdout.write(r.stdout);
  process.stdout.write(r.stderr);
  if (r.code !== 0) throw new Error(`fleetctl ${args.join(' ')} exited with ${r.code}`);
  return r;
}

async function waitUntil<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}

function logTail(): string {
  try {
    return readFileSync(KEEPER_LOG, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no keeper log)';
  }
}

async function startDemo(): Promise<void> {
  const t0 = Date.now();
  if (await stopDemo((l) => console.log(`demo: ${l}`))) console.log('demo: previous run cleaned up');
  if (!existsSync(FLEETD) || !existsSync(FLEETCTL)) {
    throw new Error(`${FLEETD} missing: run \`npm run build\` first`);
  }
  mkdirSync(UNIT_DIR, { recursive: true });
  writeFileSync(join(UNIT_DIR, 'apache@.service'), APACHE_UNIT);

  console.log('demo: booting 3 systemd machines (systemd-nspawn) with etcd on this host...');
  const logFd = openSync(KEEPER_LOG, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'keeper'], {
    cwd: PROJECT,
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const keeperProc = proc(child.pid ?? -1);
  child.unref();
  writeState({ keeper: keeperProc });

  let st: DemoState;
  try {
    st = await waitUntil('the cluster to boot', 150_000, () => {
      const s = readState();
      if (s?.error) throw new Error(`booting the cluster failed: ${s.error}`);
      if (s?.ready) return s;
      if (!alive(keeperProc)) throw new Error(`the demo keeper exited during boot:\n${logTail()}`);
      return undefined;
    });
  } catch (err) {
    await stopDemo(() => {});
    throw err;
  }
  const endpoint = st.etcd?.endpoint ?? '';
  const machines = st.machines ?? [];
  console.log(
    `demo: ${machines.length} machines up in ${((st.bootMs ?? 0) / 1000).toFixed(1)} s: ` +
      machines.map((m) => `${m.name} ${m.ip}`).join(', '),
  );

  try {
    // fleetd announces each machine a moment after its service starts.
    await waitUntil('every machine to join the cluster', 60_000, () => {
      const r = fleetctlRaw(endpoint, ['list-machines', '--output', 'json'], 20_000);
      if (r.code !== 0) return undefined;
      return (JSON.parse(r.stdout) as unknown[]).length >= machines.length ? true : undefined;
    });

    shown(endpoint, ['list-machines', '-l']);
    console.log('\n$ cat apache@.service');
    process.stdout.write(APACHE_UNIT);
    shown(endpoint, ['submit', 'apache@.service']);
    shown(endpoint, ['start', ...PORTS.map((p) => `apache@${p}`)]);
    shown(endpoint, ['list-units']);

    const units = await waitUntil('list-units --output json', 30_000, () => {
      const r = fleetctlRaw(endpoint, ['list-units', '--output', 'json'], 20_000);
      if (r.code !== 0) {
        console.error(`(fleetctl list-units --output json failed, retrying: ${r.stderr.trim()})`);
        return undefined;
      }
      return JSON.parse(r.stdout) as { unit: string; machine: { ip: string | null } | null }[];
    });
    for (const port of PORTS) {
      const ip = units.find((u) => u.unit === `apache@${port}.service`)?.machine?.ip;
      if (!ip) throw new Error(`apache@${port}.service has no machine`);
      const url = `http://${ip}:${port}/`;
      console.log(`\n$ curl -s ${url} | head -n 1`);
      // systemd reports the unit active as soon as python starts; the socket binds a moment later.
      const r = spawnSync(
        'curl',
        ['-sS', '--max-time', '5', '--retry', '20', '--retry-connrefused', '--retry-delay', '1', url],
        { encoding: 'utf8', timeout: 60_000 },
      );
      if (r.status !== 0) throw new Error(`curl ${url} failed: ${(r.stderr ?? '').trim()}`);
      console.log(r.stdout.split('\n')[0]);
    }
    shown(endpoint, ['list-unit-files']);
  } catch (err) {
    console.error(`\ndemo: ${(err as Error).message}`);
    console.error('demo: stopping the cluster so nothing is left behind');
    await stopDemo(() => {});
    process.exit(1);
  }

  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  console.log(`
demo: done in ${secs} s. The cluster keeps running; use it with:

  export FLEETCTL_DRIVER=etcd FLEETCTL_ENDPOINT=${endpoint}
  node ${FLEETCTL} list-units

or in one line:

  node ${FLEETCTL} --driver=etcd --endpoint=${endpoint} list-machines

Inside a machine: nsenter -t <PID> -a systemctl status 'apache@*'  (PIDs: ${machines
    .map((m) => `${m.name} ${m.leader.pid}`)
    .join(', ')})
Stop everything the demo started: npm run demo -- stop`);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const cmd = process.argv[2] ?? 'start';
  if (cmd === 'keeper') return keeper();
  if (cmd === 'stop') {
    const stopped = await stopDemo((l) => console.log(`demo: ${l}`));
    console.log(stopped ? 'demo: stopped; nothing of it is left running' : 'demo: nothing to stop');
    return;
  }
  if (cmd === 'start') return startDemo();
  throw new Error(`unknown command "${cmd}" (use start or stop)`);
}

main().catch((err: unknown) => {
  console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
