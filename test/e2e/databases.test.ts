// The database examples on 4 real systemd machines: a Galera cluster that survives the hard loss of a
// machine and a full restart, health-gated rolling updates of it, and MySQL primary/replica replication.
// Scenario list: docs/testing.md. Figures are printed, never asserted.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, createCluster } from '../support/nspawn.js';
import {
  engineLeader,
  ensureBuilt,
  fleetctlOk,
  fleetdLog,
  listUnits,
  machineByID,
  PROJECT,
  until,
  waitForMachines,
} from './fleet-scenario.js';
import { galeraRollingUpdateScenarios } from './galera-rolling.js';
import {
  activeMachineOf,
  galeraSocket,
  longestSpan,
  requireMariaDB,
  seconds,
  sql,
  startSampler,
  status,
  waitSynced,
} from './mariadb.js';

const NAMES = ['db1', 'db2', 'db3', 'db4'];
const GALERA = ['galera@1.service', 'galera@2.service', 'galera@3.service'];
const REPLICATION = ['mysql-primary.service', 'mysql-replica@1.service', 'mysql-replica@2.service'];
const ROW_1 = 'SELECT v FROM demo.t WHERE id = 1';
const GALERA_DIR = join(PROJECT, 'examples/galera');
const REPLICATION_DIR = join(PROJECT, 'examples/mysql-replication');
let cluster: Cluster | undefined;
let failed = false;

function c(): Cluster {
  if (!cluster) throw new Error('cluster did not boot');
  return cluster;
}

/** Where fleet runs each unit once all of them are active. */
async function placements(units: readonly string[], timeoutMs: number): Promise<Map<string, string>> {
  return until(
    `${units.join(', ')} active`,
    timeoutMs,
    async () => {
      const rows = await listUnits(c());
      const placed = new Map<string, string>();
      for (const r of rows) {
        if (units.includes(r.unit) && r.active === 'active' && r.machine) {
          placed.set(r.unit, machineByID(c(), r.machine.id));
        }
      }
      return placed.size === units.length ? placed : undefined;
    },
    1000,
  );
}

async function diagnostics(units: string): Promise<void> {
  for (const m of c().machines.values()) {
    if (!m.running()) continue;
    const j = await c().exec(m.name, ['journalctl', '-u', units, '--no-pager', '-n', '60', '-o', 'cat']);
    console.log(
      `--- ${units} on ${m.name}\n${j.stdout}\n--- fleetd on ${m.name}\n${await fleetdLog(c(), m.name, 20)}`,
    );
  }
}

beforeAll(async () => {
  requireMariaDB();
  ensureBuilt();
  cluster = await createCluster({
    machines: NAMES.map((name) => ({ name, fleetConf: { agent_ttl: '5s' } })),
    projectDir: PROJECT,
    startFleetd: true,
  });
  await waitForMachines(c(), NAMES);
});

afterAll(async () => {
  if (cluster && failed) await diagnostics('galera@*').catch(() => {});
  await cluster?.teardown();
});

describe('databases on fleet-ts (real MariaDB in real systemd machines)', () => {
  const placed = new Map<string, string>();

  it('galera@1..3 form one cluster; a row written through one node is read on the others', async () => {
    try {
      const t0 = Date.now();
      await fleetctlOk(c(), ['submit', 'galera@.service'], { cwd: GALERA_DIR });
      await fleetctlOk(c(), ['start', '--no-block', ...GALERA], { cwd: GALERA_DIR });
      for (const [u, m] of await placements(GALERA, 540_000)) placed.set(u, m);
      expect(new Set(placed.values()).size).toBe(3); // Conflicts=galera@*: one node per machine
      for (const [i, unit] of GALERA.entries())
        await waitSynced(c(), placed.get(unit) ?? '', i + 1, 3, 120_000);
      console.log(
        `galera: 3 nodes synced, wsrep_cluster_size=3, ${seconds(Date.now() - t0)} s after fleetctl start`,
      );

      const m1 = placed.get('galera@1.service') ?? '';
      await sql(
        c(),
        m1,
        galeraSocket(1),
        `CREATE DATABASE demo; CREATE TABLE demo.t (id INT PRIMARY KEY, v VARCHAR(64));
        CREATE TABLE demo.probe (id INT AUTO_INCREMENT PRIMARY KEY, n INT NOT NULL);
        INSERT INTO demo.t VALUES (1, 'written through galera@1')`,
      );
      for (const i of [2, 3]) {
        const m = placed.get(`galera@${i}.service`) ?? '';
        // wsrep_sync_wait=1: the read waits until the node has applied everything committed before it.
        expect(await sql(c(), m, galeraSocket(i), `SET SESSION wsrep_sync_wait=1; ${ROW_1}`)).toBe(
          'written through galera@1',
        );
      }
    } catch (err) {
      failed = true;
      throw err;
    }
  });

  it('a hard-killed machine: the others keep quorum and writes; the lost node rejoins on the 4th machine by SST', async () => {
    try {
      // The victim runs galera@2 and, if possible, not the engine leader (leader failover is another test).
      const leader = await engineLeader(c());
      const victimUnit =
        ['galera@2.service', 'galera@3.service', 'galera@1.service'].find(
          (u) => c().machine(placed.get(u) ?? '').machineID !== leader,
        ) ?? 'galera@2.service';
      const lost = Number(victimUnit.slice('galera@'.length, -'.service'.length));
      const victim = placed.get(victimUnit) ?? '';
      const spare = NAMES.find((n) => ![...placed.values()].includes(n)) ?? '';
      const observerUnit = GALERA.find((u) => u !== victimUnit) ?? '';
      const observer = placed.get(observerUnit) ?? '';
      const observerSocket = galeraSocket(observerUnit.slice('galera@'.length, -'.service'.length));

      const sampler = startSampler(c(), observer, observerSocket, 'demo.probe');
      await new Promise((r) => setTimeout(r, 3000)); // a few samples of the healthy cluster first
      const killedAt = Date.now();
      const killedMono = process.hrtime.bigint() / 1000n; // CLOCK_MONOTONIC, as systemd's *Monotonic (µs)
      await c().hardKill(victim);

      // fleet moves the instance to the only machine without a Galera node (Conflicts=).
      await until(
        `${victimUnit} active on ${spare}`,
        300_000,
        async () => ((await activeMachineOf(c(), victimUnit)) === spare ? true : undefined),
        1000,
      );
      // When systemd on the spare started the unit and when it became active (mariadbd ready after the
      // state transfer), from systemd's own timestamps: no polling delay in the figures.
      const since = async (prop: string) => {
        const v = await c().execOk(spare, ['systemctl', 'show', '--value', `--property=${prop}`, victimUnit]);
        return Number((BigInt(v.trim()) - killedMono) / 1000n);
      };
      const startedMs = await since('InactiveExitTimestampMonotonic');
      const activeMs = await since('ActiveEnterTimestampMonotonic');
      await waitSynced(c(), spare, lost, 3, 300_000);
      const { statuses, writes } = await sampler.stop();
      // Back in the cluster: the first sample of size 3 after the observer saw the dead node evicted.
      const evicted = statuses.findIndex((s) => s.at > killedAt && s.size === 2);
      const back = evicted < 0 ? undefined : statuses.slice(evicted).find((s) => s.size === 3);

      // Quorum: every sample of the observer is in the primary component with at least 2 nodes, and
      // every write through it committed (some waited while Galera evicted the dead node).
      const notPrimary = statuses.filter((s) => !s.primary || (s.size ?? 0) < 2);
      const failedWrites = writes.filter((w) => !w.ok);
      const quorumLossMs = longestSpan(statuses, (s) => !s.primary);
      const longestWrite = Math.max(...writes.map((w) => w.ms));
      console.log(
        `galera machine loss (${victim} killed, ${victimUnit} moved to ${spare}, observed on ${observer}):\n` +
          `  quorum-loss window: ${seconds(quorumLossMs)} s (${statuses.length} status samples at 1 Hz, ${notPrimary.length} not Primary or size < 2)\n` +
          `  writes through ${observer}: ${writes.length - failedWrites.length}/${writes.length} committed, longest ${seconds(longestWrite)} s (waits while Galera evicts the dead node)\n` +
          `  ${victimUnit} started on ${spare} ${seconds(startedMs)} s after the kill (agent_ttl 5 s)\n` +
          `  lost node a member again (wsrep_cluster_size 3 on ${observer}, state transfer under way): ${back ? `${seconds(back.at - killedAt)} s` : 'not seen by the 1 Hz sampler'} after the kill\n` +
          `  lost node synced and serving (its unit active: mariadbd ready after the SST): ${seconds(activeMs)} s after the kill`,
      );
      expect(notPrimary).toEqual([]);
      expect(failedWrites).toEqual([]);

      // The new node has the data: the first row and every write made while it was gone.
      const sock = galeraSocket(lost);
      expect(await sql(c(), spare, sock, `SET SESSION wsrep_sync_wait=1; ${ROW_1}`)).toBe(
        'written through galera@1',
      );
      expect(
        await sql(c(), spare, sock, 'SET SESSION wsrep_sync_wait=1; SELECT COUNT(*) FROM demo.probe'),
      ).toBe(String(writes.length));
      const s = await status(c(), spare, sock, ['wsrep_cluster_size', 'wsrep_local_state_comment']);
      expect(s).toEqual({ wsrep_cluster_size: '3', wsrep_local_state_comment: 'Synced' });
      placed.set(victimUnit, spare);
    } catch (err) {
      failed = true;
      throw err;
    }
  });

  it('the whole cluster stopped in order and started at once: the node that left last bootstraps, the others join', async () => {
    try {
      const probes = await sql(
        c(),
        placed.get('galera@1.service') ?? '',
        galeraSocket(1),
        'SELECT COUNT(*) FROM demo.probe',
      );
      // One after the other (fleetctl stop waits for systemd): galera@3 leaves the cluster last.
      for (const unit of GALERA) await fleetctlOk(c(), ['stop', unit]);
      const grastate = async (i: number) =>
        (
          await c().execOk(placed.get(`galera@${i}.service`) ?? '', [
            'cat',
            `/var/lib/galera/${i}/grastate.dat`,
          ])
        ).match(/safe_to_bootstrap:\s*(\d)/)?.[1];
      expect([await grastate(1), await grastate(2), await grastate(3)]).toEqual(['0', '0', '1']);

      const t0 = Date.now();
      await fleetctlOk(c(), ['start', '--no-block', ...GALERA], { cwd: GALERA_DIR });
      for (const [i, unit] of GALERA.entries())
        await waitSynced(c(), placed.get(unit) ?? '', i + 1, 3, 300_000);
      const decided = async (i: number) =>
        (
          await c().execOk(placed.get(`galera@${i}.service`) ?? '', [
            'journalctl',
            '-u',
            `galera@${i}.service`,
            '--identifier=galera-start',
            '-o',
            'cat',
            '--no-pager',
          ])
        )
          .split('\n')
          .filter((l) => /^galera-start\[.*\]: .*(joining|bootstrapping)/.test(l))
          .at(-1);
      expect(await decided(3)).toMatch(/safe_to_bootstrap: 1\): bootstrapping/);
      for (const i of [1, 2]) expect(await decided(i)).toMatch(/joining the running cluster/);
      const m2 = placed.get('galera@2.service') ?? '';
      expect(
        await sql(c(), m2, galeraSocket(2), 'SET SESSION wsrep_sync_wait=1; SELECT COUNT(*) FROM demo.probe'),
      ).toBe(probes);
      console.log(
        `galera full restart: galera@3 (safe_to_bootstrap: 1) bootstrapped, the others joined; synced ${seconds(Date.now() - t0)} s after fleetctl start`,
      );
    } catch (err) {
      failed = true;
      throw err;
    }
  });

  // Health-gated rolling updates of the Galera template on this running cluster (issue 18 item 5).
  galeraRollingUpdateScenarios(() => ({ cluster: c(), placed }));

  it('replication: a primary and two replicas on different machines; rows reach both, also after the primary restarts', async () => {
    try {
      // Free the machines' memory and CPU first; also shows the Galera units stop cleanly.
      await fleetctlOk(c(), ['destroy', ...GALERA]);
      await fleetctlOk(c(), ['submit', 'mysql-primary.service', 'mysql-replica@.service'], {
        cwd: REPLICATION_DIR,
      });
      await fleetctlOk(c(), ['start', '--no-block', ...REPLICATION], { cwd: REPLICATION_DIR });
      const where = await placements(REPLICATION, 540_000);
      expect(new Set(where.values()).size).toBe(3); // Conflicts=: away from the primary and each other
      const primary = where.get('mysql-primary.service') ?? '';
      const replicas = [1, 2].map((i) => ({
        machine: where.get(`mysql-replica@${i}.service`) ?? '',
        socket: `/run/mysql-repl/replica-${i}/mysqld.sock`,
      }));
      const primarySocket = '/run/mysql-repl/primary/mysqld.sock';

      const reaches = async (id: number, what: string) => {
        const t = Date.now();
        for (const r of replicas) {
          await until(
            `row ${id} on the replica on ${r.machine}`,
            120_000,
            async () =>
              (await sql(c(), r.machine, r.socket, `SELECT v FROM shop.orders WHERE id = ${id}`)) === what
                ? true
                : undefined,
            500,
          );
        }
        return Date.now() - t;
      };
      await sql(
        c(),
        primary,
        primarySocket,
        `CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, v VARCHAR(64));
        INSERT INTO shop.orders VALUES (1, 'first order')`,
      );
      const lag1 = await reaches(1, 'first order');

      // The primary's unit restarts (stop + start keeps its machine and data); the replicas' IO threads
      // reconnect by themselves (MASTER_CONNECT_RETRY=1).
      await fleetctlOk(c(), ['stop', 'mysql-primary.service']);
      await fleetctlOk(c(), ['start', 'mysql-primary.service'], { cwd: REPLICATION_DIR });
      const restartedOn = await until(
        'mysql-primary.service active again',
        300_000,
        () => activeMachineOf(c(), 'mysql-primary.service'),
        1000,
      );
      expect(restartedOn).toBe(primary);
      // fleet's state can say active a moment before the restarted server takes queries: retry (IGNORE
      // makes a retried insert harmless).
      await until(
        'an insert on the restarted primary',
        120_000,
        () =>
          sql(c(), primary, primarySocket, `INSERT IGNORE INTO shop.orders VALUES (2, 'after the restart')`),
        1000,
      );
      const lag2 = await reaches(2, 'after the restart');
      for (const r of replicas) {
        const gtid = await sql(c(), r.machine, r.socket, 'SELECT @@gtid_slave_pos');
        expect(gtid).toBe(await sql(c(), primary, primarySocket, 'SELECT @@gtid_binlog_pos'));
      }
      console.log(
        `replication (primary on ${primary}, replicas on ${replicas.map((r) => r.machine).join(', ')}): ` +
          `row on both replicas ${seconds(lag1)} s after the insert; after the primary's restart ${seconds(lag2)} s`,
      );
    } catch (err) {
      failed = true;
      await diagnostics('mysql-*').catch(() => {});
      throw err;
    }
  });
});
