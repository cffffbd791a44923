// `npm run demo -- galera`: examples/galera on the demo machines — a 3-node MariaDB Galera cluster
// started with fleetctl, a row written through one node and read through another, then a machine with
// a node killed hard: the two others keep the cluster, fleet-ts starts the lost node on the spare
// machine, it copies the data (state transfer) and the row is there. Every step is the command a user
// types (fleetctl ssh into the nodes), printed with its output.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { listJson, quiet, shown } from './shell.js';
import { alive, type DemoMachine, type DemoState, PROJECT, UNIT_DIR, waitUntil } from './state.js';

const NODES = [1, 2, 3] as const;

interface UnitRow {
  unit: string;
  active: string | null;
  machine: { id: string; ip: string | null } | null;
}

const secs = (ms: number): string => (ms / 1000).toFixed(1);

/** `fleetctl ssh galera@N` running one SQL statement list in that node's mariadb client. */
const onNode = (n: number, query: string): string =>
  `fleetctl ssh galera@${n} "mariadb --socket=/run/galera/${n}/mysqld.sock -e \\"${query}\\""`;

function activeOn(st: DemoState, unit: string): DemoMachine | undefined {
  const row = listJson<UnitRow>(st, 'list-units')?.find((r) => r.unit === unit && r.active === 'active');
  return st.machines?.find((m) => m.machineID === row?.machine?.id);
}

/** The node reports wsrep_cluster_size 3 and Synced (polled quietly, over fleetctl ssh). */
function synced(st: DemoState, n: number): true | undefined {
  const r = quiet(
    st,
    onNode(n, "SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_size','wsrep_local_state_comment')"),
    30_000,
  );
  return /wsrep_cluster_size\s+3\b/.test(r.stdout) && /Synced/.test(r.stdout) ? true : undefined;
}

export function writeGaleraUnit(): void {
  copyFileSync(join(PROJECT, 'examples/galera/galera@.service'), join(UNIT_DIR, 'galera@.service'));
}

export async function galeraExample(st: DemoState): Promise<void> {
  console.log(
    '\ndemo: examples/galera — MariaDB + Galera from Debian packages, one node per machine (Conflicts=).\n' +
      'demo: galera-start (ExecStartPre) learns the peers from fleetctl list-units and decides bootstrap or join.',
  );
  shown(st, 'cat galera@.service');
  shown(st, 'fleetctl submit galera@.service');
  const t0 = Date.now();
  // --no-block: a bootstrap and two state transfers can take minutes on a busy host; the demo waits below.
  shown(st, `fleetctl start --no-block ${NODES.map((n) => `galera@${n}`).join(' ')}`);
  console.log('\ndemo: waiting for galera@1..3: one bootstraps, the two others join by state transfer...');
  const placed = new Map<number, DemoMachine>();
  await waitUntil('galera@1..3 active (bootstrap, then two state transfers)', 600_000, () => {
    for (const n of NODES) {
      const m = activeOn(st, `galera@${n}.service`);
      if (!m) return undefined;
      placed.set(n, m);
    }
    return true;
  });
  await waitUntil('all three nodes synced', 120_000, () =>
    NODES.every((n) => synced(st, n)) ? true : undefined,
  );
  console.log(`\ndemo: the cluster is up ${secs(Date.now() - t0)} s after fleetctl start`);
  shown(st, 'fleetctl list-units');
  shown(st, `fleetctl journal --lines 500 galera@1 | grep 'galera-start\\['`, 'what galera-start decided');
  shown(st, onNode(1, "SHOW STATUS LIKE 'wsrep_cluster_size'"));
  shown(
    st,
    onNode(
      1,
      "CREATE DATABASE demo; CREATE TABLE demo.t (v VARCHAR(64)); INSERT INTO demo.t VALUES ('written through galera@1')",
    ),
  );
  shown(st, onNode(3, 'SET SESSION wsrep_sync_wait=1; SELECT v FROM demo.t'), 'read through galera@3');

  // A hard machine loss: SIGKILL the machine's systemd (everything in it dies at once, no clean leave).
  const lost = 2;
  const victim = placed.get(lost);
  const spare = st.machines?.find((m) => ![...placed.values()].includes(m) && alive(m.nspawn));
  if (!victim || !spare) throw new Error('the galera demo needs 4 machines (--machines 4)');
  console.log(`\ndemo: ${victim.name} runs galera@${lost}; killing it hard (its systemd, from this host)`);
  const killedAt = Date.now();
  shown(st, `kill -KILL ${victim.leader.pid}`, `${victim.name} is gone at once`);
  shown(
    st,
    onNode(
      1,
      "INSERT INTO demo.t VALUES ('written while a node was gone'); SHOW STATUS LIKE 'wsrep_cluster_s%'",
    ),
    'the two others keep quorum and take writes',
  );
  await waitUntil(`galera@${lost} active on ${spare.name}`, 300_000, () =>
    activeOn(st, `galera@${lost}.service`)?.name === spare.name ? true : undefined,
  );
  await waitUntil(`galera@${lost} synced`, 300_000, () => synced(st, lost));
  console.log(
    `\ndemo: galera@${lost} moved to ${spare.name}, joined by state transfer, synced ${secs(Date.now() - killedAt)} s after the kill`,
  );
  shown(st, 'fleetctl list-units');
  shown(st, onNode(lost, "SHOW STATUS LIKE 'wsrep_cluster_size'; SELECT v FROM demo.t"), `on ${spare.name}`);
}

export function galeraHints(): string {
  return `
  fleetctl list-units
  ${onNode(1, "SHOW STATUS LIKE 'wsrep%'")}
  fleetctl journal -n 20 galera@2
  fleetctl destroy galera@1 galera@2 galera@3

More: examples/galera/README.md (how bootstrap and join are decided), README "Running a database".`;
}
