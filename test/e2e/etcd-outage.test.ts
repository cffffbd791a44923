// Issue 13 on real systemd machines: etcd itself goes away for 60 s (the whole etcd "cluster" down, then
// started again on the same data), and a fleetd is SIGKILLed and started again at once. In both cases
// no unit may stop, restart (same main PID) or move, and the cluster converges afterwards.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureBuilt,
  fleetctl,
  fleetctlOk,
  listUnits,
  PROJECT,
  type UnitRow,
  until,
} from '../support/fleet-e2e.js';
import { type Cluster, createCluster } from '../support/nspawn.js';
import { unitDir } from './fleet-scenario.js';

const NAMES = ['out1', 'out2', 'out3'] as const;
const AGENT_TTL_S = 20;
const OUTAGE_MS = 60_000;
let cluster: Cluster | undefined;
const units = unitDir({
  'svc@.service': '[Service]\nExecStart=/bin/sleep 100000\n',
  'everywhere.service': '[Service]\nExecStart=/bin/sleep 100000\n\n[X-Fleet]\nGlobal=true\n',
});

function c(): Cluster {
  if (!cluster) throw new Error('cluster did not boot');
  return cluster;
}

/** machine name -> unit -> main PID, for every fleet unit running in the machines. */
async function pids(): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  for (const name of NAMES) {
    const list = await c().execOk(name, [
      'systemctl',
      'list-units',
      '--no-legend',
      '--plain',
      '--state=active',
      'svc@*',
      'everywhere.service',
    ]);
    const byUnit: Record<string, string> = {};
    for (const line of list.split('\n')) {
      const unit = line.trim().split(/\s+/)[0];
      if (!unit) continue;
      byUnit[unit] = (await c().execOk(name, ['systemctl', 'show', '-p', 'MainPID', '--value', unit])).trim();
    }
    out[name] = byUnit;
  }
  return out;
}

const placement = (rows: readonly UnitRow[]) =>
  rows.map((r) => `${r.unit} ${r.machineID} ${r.active}`).sort();

beforeAll(async () => {
  ensureBuilt();
  cluster = await createCluster({
    machines: NAMES.map((name) => ({ name, fleetConf: { agent_ttl: `${AGENT_TTL_S}s` } })),
    projectDir: PROJECT,
    startFleetd: true,
  });
  await until('three machines', 90_000, async () => {
    const out = await fleetctlOk(c(), ['list-machines', '--no-legend']);
    return out.split('\n').filter((l) => l.trim()).length === NAMES.length ? true : undefined;
  });
  const r = await fleetctl(c(), [
    'start',
    ...['svc@1', 'svc@2', 'svc@3', 'svc@4'].map((u) => `${units.dir}/${u}.service`),
    `${units.dir}/everywhere.service`,
  ]);
  expect(r.code, r.stderr).toBe(0);
  await until('all units running', 90_000, async () => {
    const rows = await listUnits(c());
    return rows.length === 4 + NAMES.length && rows.every((u) => u.active === 'active') ? true : undefined;
  });
});

afterAll(async () => {
  try {
    await cluster?.teardown();
  } finally {
    units.remove();
  }
});

describe('etcd and fleetd trouble on real machines', () => {
  it('etcd down for 60 s: no unit stops or restarts, nothing moves, the cluster converges after', async () => {
    const rowsBefore = await listUnits(c());
    const before = await pids();
    const t0 = Date.now();
    await c().etcd.kill('SIGKILL');
    // Sample through the outage: every unit keeps its process.
    while (Date.now() - t0 < OUTAGE_MS) {
      expect(await pids()).toEqual(before);
      await sleep(5000);
    }
    await c().etcd.restart();
    const back = Date.now();
    await until('list-units again complete and active', 120_000, async () => {
      const rows = await listUnits(c());
      return placement(rows).join() === placement(rowsBefore).join() ? true : undefined;
    });
    console.log(
      `etcd down ${OUTAGE_MS} ms: 0 stopped; list-units converged ${Date.now() - back} ms after etcd came back`,
    );
    // Well past the new leader's wait of one agent_ttl: still nothing moved or restarted.
    await sleep(AGENT_TTL_S * 1000 + 5000);
    expect(placement(await listUnits(c()))).toEqual(placement(rowsBefore));
    expect(await pids()).toEqual(before);
  }, 360_000);

  it('fleetd SIGKILLed and started again within agent_ttl: nothing stops, restarts or moves', async () => {
    const rowsBefore = await listUnits(c());
    const before = await pids();
    const victim = NAMES[1];
    await c().execOk(victim, ['systemctl', 'kill', '-s', 'SIGKILL', 'fleet.service']);
    await until('fleetd dead', 30_000, async () =>
      (await c().exec(victim, ['systemctl', 'is-active', 'fleet.service'])).stdout.trim() !== 'active'
        ? true
        : undefined,
    );
    const t0 = Date.now();
    await c().execOk(victim, ['systemctl', 'start', 'fleet.service']);
    await until('registration resumed', 60_000, async () => {
      const log = await c().execOk(victim, ['journalctl', '--no-pager', '-u', 'fleet.service', '-n', '200']);
      return log.includes('resuming the lease of the previous fleetd') ? true : undefined;
    });
    console.log(`fleetd SIGKILL + restart: lease resumed ${Date.now() - t0} ms after the restart`);
    await sleep(AGENT_TTL_S * 1000 + 5000);
    expect(placement(await listUnits(c()))).toEqual(placement(rowsBefore));
    expect(await pids()).toEqual(before);
  }, 240_000);
});
