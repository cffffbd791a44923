// Leader loss on real systemd machines: the engine leader's fleetd is SIGKILLed inside its machine (the
// machine itself keeps running). Another machine's engine must take the leader key once the dead
// leader's lease runs out, and units submitted afterwards must still be scheduled and started.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, createCluster } from '../support/nspawn.js';
import {
  activeInMachine,
  engineLeader,
  ensureBuilt,
  fleetctl,
  fleetctlOk,
  fleetdLog,
  HELLO_UNIT,
  listUnits,
  machineByID,
  PROJECT,
  unitDir,
  until,
  waitForMachines,
} from './fleet-scenario.js';

// Leader lease = 5 x engine_reconcile_interval (as in fleet): 1 s gives a 5 s lease.
const RECONCILE_S = 1;
const NAMES = ['lead1', 'lead2', 'lead3'];
let cluster: Cluster | undefined;
const units = unitDir({ 'hello@.service': HELLO_UNIT });
let failed = false;

function c(): Cluster {
  if (!cluster) throw new Error('cluster did not boot');
  return cluster;
}

async function fleetdActive(machine: string): Promise<boolean> {
  const r = await c().exec(machine, ['systemctl', 'is-active', 'fleet.service']);
  return r.stdout.trim() === 'active';
}

/** Each unit is running in systemd on exactly one of `machines`, the one fleet reports. */
async function expectRunningOnce(names: readonly string[], machines: readonly string[]): Promise<void> {
  const rows = await listUnits(c());
  const perMachine = new Map<string, string[]>();
  for (const m of machines) perMachine.set(m, await activeInMachine(c(), m, 'hello@*'));
  for (const u of names) {
    const row = rows.find((r) => r.unit === u);
    expect([row?.active, row?.sub], u).toEqual(['active', 'running']);
    const reported = machineByID(c(), row?.machine?.id ?? '');
    const holders = machines.filter((m) => perMachine.get(m)?.includes(u));
    expect(holders, `machines running ${u}`).toEqual([reported]);
  }
}

beforeAll(async () => {
  ensureBuilt();
  cluster = await createCluster({
    machines: NAMES.map((name) => ({
      name,
      fleetConf: { agent_ttl: '5s', engine_reconcile_interval: RECONCILE_S },
    })),
    projectDir: PROJECT,
    startFleetd: true,
  });
  await waitForMachines(c(), NAMES);
});

afterAll(async () => {
  units.remove();
  if (cluster && failed) {
    for (const m of cluster.machines.values()) {
      if (m.running()) console.log(`--- fleetd on ${m.name}\n${await fleetdLog(cluster, m.name)}`);
    }
  }
  await cluster?.teardown();
});

describe('engine leader loss on real systemd machines', () => {
  it("killing the leader's fleetd hands leadership to another engine, and new units are still scheduled", async () => {
    try {
      await fleetctlOk(c(), ['submit', 'hello@.service'], { cwd: units.dir });
      await fleetctlOk(c(), ['start', 'hello@1', 'hello@2', 'hello@3'], { cwd: units.dir });
      await expectRunningOnce(['hello@1.service', 'hello@2.service', 'hello@3.service'], NAMES);

      const oldLeaderID = await until(
        'an engine leader',
        30_000,
        async () => (await engineLeader(c())) ?? undefined,
      );
      const oldLeader = machineByID(c(), oldLeaderID);
      const survivors = NAMES.filter((n) => n !== oldLeader);

      const t0 = Date.now();
      await c().killFleetd(oldLeader);
      await until(`fleetd on ${oldLeader} to be dead`, 30_000, async () =>
        (await fleetdActive(oldLeader)) ? undefined : true,
      );
      const newLeaderID = await until('another engine to lead', 60_000, async () => {
        const id = await engineLeader(c());
        return id !== null && id !== oldLeaderID ? id : undefined;
      });
      const electedMs = Date.now() - t0;
      const newLeader = machineByID(c(), newLeaderID);
      expect(survivors).toContain(newLeader);

      // New work after the failover: scheduled by the new leader onto machines whose fleetd lives.
      const t1 = Date.now();
      const start = await fleetctl(c(), ['start', 'hello@10', 'hello@11', 'hello@12', 'hello@13'], {
        cwd: units.dir,
      });
      expect(start.code, start.stderr).toBe(0);
      const startedMs = Date.now() - t1;
      const fresh = ['hello@10.service', 'hello@11.service', 'hello@12.service', 'hello@13.service'];
      for (const u of fresh) expect(start.stdout).toContain(`Unit ${u} launched on `);
      await expectRunningOnce(fresh, survivors);
      for (const u of fresh) {
        expect(await activeInMachine(c(), oldLeader, u), `${u} on the machine without fleetd`).toEqual([]);
      }
      console.log(
        `[measure] leader ${oldLeader} fleetd SIGKILLed: ${newLeader} leads after ${electedMs} ms ` +
          `(lease ${5 * RECONCILE_S} s); 4 new units launched in ${startedMs} ms`,
      );

      // The old leader's fleetd comes back as a follower: leadership does not flap back.
      await c().startFleetd(oldLeader);
      await waitForMachines(c(), NAMES);
      await fleetctlOk(c(), ['start', 'hello@20'], { cwd: units.dir });
      await expectRunningOnce(['hello@20.service'], NAMES);
      expect(await engineLeader(c())).toBe(newLeaderID);
      expect(await fleetdActive(newLeader)).toBe(true);
    } catch (err) {
      failed = true;
      throw err;
    }
  });
});
