// The demo's scenario after the cluster is up, every step printed as the command a user would type.
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { listJson, quiet, shown } from './shell.js';
import { alive, type DemoMachine, type DemoState, UNIT_DIR, WATCH_DIR, waitUntil } from './state.js';

export const PORTS = [8081, 8082] as const;

// A stand-in for Apache: a tiny HTTP server per instance that answers with the machine's hostname.
// %i is the port; %H (hostname) is expanded by systemd on the machine the unit lands on.
export const APACHE_UNIT = `[Unit]
Description=Tiny web server on port %i (stands in for Apache)

[Service]
ExecStartPre=/bin/sh -c 'mkdir -p /run/www-%i && echo "hello from %H (apache@%i)" > /run/www-%i/index.html'
ExecStart=/usr/bin/python3 -m http.server %i --directory /run/www-%i

[X-Fleet]
MachineMetadata=role=worker
Conflicts=apache@*.service
`;

const HELLO_UNIT = `[Unit]
Description=Dropped into a watched directory

[Service]
ExecStart=/bin/sh -c 'echo "hello from %H"; exec sleep infinity'
`;

// Cluster cron: one run per tick on one machine of the cluster (not one per host, as a .timer would).
const TICK_UNIT = `[Unit]
Description=Runs every 10 seconds on one machine of the cluster

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "tick on %H"'

[X-Fleet]
Schedule=*/10 * * * * *
`;

/** One row of `fleetctl list-units --output json`. */
interface UnitRow {
  unit: string;
  active: string | null;
  sub: string | null;
  machine: { id: string; ip: string | null } | null;
}

export function writeUnitFiles(): void {
  writeFileSync(join(UNIT_DIR, 'apache@.service'), APACHE_UNIT);
  writeFileSync(join(UNIT_DIR, 'hello.service'), HELLO_UNIT);
  writeFileSync(join(UNIT_DIR, 'tick.service'), TICK_UNIT);
}

const secs = (ms: number): string => (ms / 1000).toFixed(1);

function running(st: DemoState, unit: string): UnitRow[] | undefined {
  const rows = listJson<UnitRow>(st, 'list-units');
  return rows?.filter((r) => r.unit === unit && r.active === 'active' && r.sub === 'running');
}

/** systemd reports python active as soon as it starts; its socket binds a moment later. */
function portOpen(host: string, port: number): Promise<true | undefined> {
  return new Promise((res) => {
    const s = connect({ host, port, timeout: 1000 });
    const done = (ok: boolean) => {
      s.destroy();
      res(ok ? true : undefined);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
  });
}

function machineOf(st: DemoState, id: string | undefined): DemoMachine {
  const m = st.machines?.find((x) => x.machineID === id);
  if (!m) throw new Error(`no demo machine has ID ${id}`);
  return m;
}

/** Where each apache instance runs, once both are active. */
async function apacheMachines(st: DemoState): Promise<Map<number, DemoMachine>> {
  return waitUntil('both apache instances active/running', 60_000, () => {
    const placed = new Map<number, DemoMachine>();
    for (const port of PORTS) {
      const row = running(st, `apache@${port}.service`)?.[0];
      if (!row) return undefined;
      placed.set(port, machineOf(st, row.machine?.id));
    }
    return placed;
  });
}

export async function apacheExample(st: DemoState): Promise<Map<number, DemoMachine>> {
  shown(st, 'fleetctl list-machines -l');
  shown(st, 'cat apache@.service');
  shown(st, 'fleetctl submit apache@.service');
  shown(st, `fleetctl start ${PORTS.map((p) => `apache@${p}`).join(' ')}`);
  shown(st, 'fleetctl list-units');
  const placed = await apacheMachines(st);
  for (const [port, m] of placed) {
    await waitUntil(`apache@${port} listening on ${m.ip}:${port}`, 30_000, () => portOpen(m.ip, port));
    shown(st, `curl -s http://${m.ip}:${port}/`);
  }
  shown(st, 'fleetctl list-unit-files');
  return placed;
}

/** What fleet is for beyond scheduling: status, journal and a shell of a unit from anywhere. */
export function remoteAccess(st: DemoState, placed: Map<number, DemoMachine>): void {
  const [first, second] = PORTS;
  shown(st, `fleetctl status apache@${first}`);
  shown(st, `fleetctl journal -n 3 apache@${first}`);
  shown(st, `fleetctl ssh apache@${second} hostname`);
  const via = placed.get(second)?.ip ?? '';
  shown(st, `fleetctl --tunnel ${via} list-machines`, 'etcd reached through an SSH tunnel');
}

/** Powers off the machine running an apache instance and times the instance's move. */
export async function machineLoss(st: DemoState, placed: Map<number, DemoMachine>): Promise<void> {
  // Not the watcher machine: the watched-directory step needs it afterwards.
  const [port, lost] = [...placed].find(([, m]) => !m.watcher) ?? [];
  if (port === undefined || lost === undefined) throw new Error('every apache instance is on the watcher');
  const unit = `apache@${port}.service`;
  console.log(`\ndemo: ${lost.name} runs ${unit}; powering it off`);
  const t0 = Date.now();
  shown(st, `nsenter -t ${lost.leader.pid} -a systemctl poweroff`, `power off ${lost.name}`);
  const row = await waitUntil(`${unit} running on another machine`, 90_000, () =>
    running(st, unit)?.find((r) => r.machine?.id !== lost.machineID),
  );
  const movedMs = Date.now() - t0;
  await waitUntil(`${lost.name} to power off`, 60_000, () => (alive(lost.nspawn) ? undefined : true));
  shown(st, 'fleetctl list-units');
  const to = machineOf(st, row.machine?.id);
  console.log(
    `\ndemo: ${unit} moved from ${lost.name} to ${to.name}: active/running again ${secs(movedMs)} s after the power-off`,
  );
  await waitUntil(`${unit} listening on ${to.ip}`, 30_000, () => portOpen(to.ip, port));
  shown(st, `curl -s http://${to.ip}:${port}/`);
}

/** A unit file copied into the watcher's directory becomes a running unit, no fleetctl involved. */
export async function watchedDirectory(st: DemoState): Promise<void> {
  const watcher = st.machines?.find((m) => m.watcher);
  if (!watcher) throw new Error('no watcher machine');
  console.log(`\ndemo: fleetd on ${watcher.name} watches ${WATCH_DIR} (unit_watch_directory in fleet.conf)`);
  const t0 = Date.now();
  shown(
    st,
    `cp hello.service /proc/${watcher.leader.pid}/root${WATCH_DIR}/`,
    `into ${watcher.name}'s ${WATCH_DIR}`,
  );
  const row = await waitUntil(
    'hello.service active/running',
    90_000,
    () => running(st, 'hello.service')?.[0],
  );
  shown(st, 'fleetctl list-units');
  console.log(
    `\ndemo: hello.service active on ${machineOf(st, row.machine?.id).name} ${secs(Date.now() - t0)} s after the copy`,
  );
}

/** A Schedule= unit's runs, then fleet's HTTP API on a machine's socket; list-machines -l to close. */
export async function cronAndApi(st: DemoState): Promise<void> {
  shown(st, 'cat tick.service');
  shown(st, 'fleetctl start tick.service');
  await waitUntil('a finished run of tick.service', 90_000, () => {
    const r = quiet(st, 'fleetctl list-runs tick.service --output json', 20_000);
    if (r.code !== 0) return undefined;
    const { runs } = JSON.parse(r.stdout) as { runs: { status: string }[] };
    return runs.some((x) => x.status === 'succeeded') ? true : undefined;
  });
  shown(st, 'fleetctl list-runs tick.service');
  const m = st.machines?.find((x) => x.watcher);
  if (!m) throw new Error('no watcher machine');
  // fleetd serves API v1 on /var/run/fleet.sock inside each machine; the host reaches it through /proc.
  shown(
    st,
    `curl -s --unix-socket /proc/${m.leader.pid}/root/run/fleet.sock http://fleet/fleet/v1/machines`,
    `fleet's HTTP API on ${m.name}`,
  );
  console.log();
  shown(st, 'fleetctl list-machines -l');
}
