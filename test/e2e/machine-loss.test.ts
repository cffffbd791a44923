// Machine loss on real systemd machines: a worker dies at once (its container's systemd SIGKILLed from
// the host, no orderly shutdown, fleetd gets no chance to say goodbye). With agent_ttl=5s its machine
// lease expires within 5 s; its units must then run on other machines (target agent_ttl + 2 s, printed), and
// Conflicts must hold the whole time (systemd states sampled on every live machine throughout).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, createCluster } from '../support/nspawn.js';
import {
  APACHE_UNIT,
  activeInMachine,
  engineLeader,
  ensureBuilt,
  fleetctlOk,
  fleetdLog,
  HELLO_UNIT,
  listMachineIDs,
  listUnits,
  machineByID,
  PROJECT,
  type UnitRow,
  unitDir,
  until,
  waitForMachines,
} from './fleet-scenario.js';

const AGENT_TTL_MS = 5000;
const NAMES = ['ctl', 'w1', 'w2', 'w3'];
const APACHES = ['apache@1222.service', 'apache@1229.service'];
const HELLOS = ['hello@1.service', 'hello@2.service', 'hello@3.service', 'hello@4.service'];
let cluster: Cluster | undefined;
const units = unitDir({ 'apache@.service': APACHE_UNIT, 'hello@.service': HELLO_UNIT });
let failed = false;

function c(): Cluster {
  if (!cluster) throw new Error('cluster did not boot');
  return cluster;
}

beforeAll(async () => {
  ensureBuilt();
  cluster = await createCluster({
    machines: NAMES.map((name) => ({
      name,
      metadata: name.startsWith('w') ? { role: 'worker' } : undefined,
      fleetConf: { agent_ttl: `${AGENT_TTL_MS / 1000}s` },
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

describe('machine loss on real systemd machines', () => {
  it("a hard-killed worker's units run elsewhere (time printed); Conflicts hold throughout", async () => {
    try {
      await fleetctlOk(c(), ['submit', 'apache@.service', 'hello@.service'], { cwd: units.dir });
      await fleetctlOk(c(), ['start', ...APACHES, ...HELLOS], { cwd: units.dir });
      const before = await listUnits(c());
      expect(before.filter((r) => r.active === 'active').map((r) => r.unit)).toEqual([...APACHES, ...HELLOS]);

      // The victim runs an apache instance and is not the engine leader: this test is about the
      // machine's units, not about leader failover (leader-loss.test.ts).
      const leader = await engineLeader(c());
      const victimRow = before.find((r) => APACHES.includes(r.unit) && r.machine?.id !== leader);
      const victim = machineByID(c(), victimRow?.machine?.id ?? '');
      const victimID = c().machine(victim).machineID;
      const moving = before.filter((r) => r.machine?.id === victimID).map((r) => r.unit);
      const busyWorkers = new Set(
        before.filter((r) => APACHES.includes(r.unit)).map((r) => machineByID(c(), r.machine?.id ?? '')),
      );
      const freeWorker = ['w1', 'w2', 'w3'].find((w) => !busyWorkers.has(w));
      const survivors = NAMES.filter((n) => n !== victim);

      // Sample systemd on every surviving machine until the victim's units run again somewhere.
      const violations: string[] = [];
      const firstSeen = new Map<string, { machine: string; atMs: number }>();
      let t0 = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const snapshot = await Promise.all(
            survivors.map(async (m) => ({ m, units: await activeInMachine(c(), m, '*@*.service') })),
          );
          const at = Date.now();
          const copies = new Map<string, string[]>();
          for (const { m, units: list } of snapshot) {
            const apaches = list.filter((u) => u.startsWith('apache@'));
            if (apaches.length > 1) violations.push(`${m} runs ${apaches.join(' and ')} (Conflicts)`);
            for (const u of list) {
              copies.set(u, [...(copies.get(u) ?? []), m]);
              if (t0 > 0 && moving.includes(u) && !firstSeen.has(u))
                firstSeen.set(u, { machine: m, atMs: at - t0 });
            }
          }
          for (const [u, ms] of copies) {
            if (ms.length > 1) violations.push(`${u} runs on ${ms.join(' and ')} at once`);
          }
        }
      })();

      t0 = Date.now();
      await c().hardKill(victim);
      try {
        await until(`${moving.join(', ')} running on surviving machines`, 60_000, async () =>
          moving.every((u) => firstSeen.has(u)) ? true : undefined,
        );
      } finally {
        sampling = false;
        await sampler;
      }
      const movedMs = Math.max(...moving.map((u) => firstSeen.get(u)?.atMs ?? Number.POSITIVE_INFINITY));
      console.log(
        `[measure] hard kill of ${victim} (agent_ttl ${AGENT_TTL_MS} ms): ${moving.join(', ')} active again after ` +
          moving.map((u) => `${u} ${firstSeen.get(u)?.atMs} ms on ${firstSeen.get(u)?.machine}`).join(', ') +
          ` (all after ${movedMs} ms; target agent_ttl + 2 s = ${AGENT_TTL_MS + 2000} ms)`,
      );
      // The move time is printed above (target: agent_ttl + 2 s), not asserted: a loaded machine
      // stretches it. What must hold however slow the machine is: no Conflicts, no unit twice.
      expect(violations).toEqual([]);

      // The orphaned apache instance went to the one worker that had none; fleet agrees with systemd.
      const movedApache = moving.find((u) => u.startsWith('apache@'));
      expect(firstSeen.get(movedApache ?? '')?.machine).toBe(freeWorker);
      expect(await listMachineIDs(c())).not.toContain(victimID);
      const after = await until('list-units to show the moved units running', 30_000, async () => {
        const rows = await listUnits(c());
        return moving.every((u) =>
          rows.some((r) => r.unit === u && r.active === 'active' && r.sub === 'running'),
        )
          ? rows
          : undefined;
      });
      const where = (rows: readonly UnitRow[], u: string) =>
        machineByID(c(), rows.find((r) => r.unit === u)?.machine?.id ?? '');
      for (const u of moving) {
        expect(where(after, u)).toBe(firstSeen.get(u)?.machine);
        expect(await activeInMachine(c(), where(after, u), u)).toEqual([u]);
      }
      // Units that were not on the victim stayed where they were.
      for (const r of before.filter((x) => !moving.includes(x.unit))) {
        expect(where(after, r.unit)).toBe(machineByID(c(), r.machine?.id ?? ''));
      }
      for (const w of survivors) {
        expect((await activeInMachine(c(), w, 'apache@*')).length).toBeLessThanOrEqual(1);
      }
    } catch (err) {
      failed = true;
      throw err;
    }
  });
});
