// Chaos run (#13 item 8): SIGKILL the engine leader 20 times while 1,000 units are rolled out onto
// simulated machines (their lease-held records, as agents announce them) with a real etcd and real
// engines in child processes (test/support/campaign-engine.ts). Afterwards the whole etcd history of
// the schedule is replayed revision by revision: at no revision is a unit scheduled on two machines,
// a unit once placed is never without a placement again (the machines never leave), and at the end
// every unit is placed exactly once.
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { Etcd3, Namespace } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdRegistryOn } from '../../registry/etcd-registry.js';
import { ENGINE_LEADER_KEY, JOB_PREFIX, SCHEDULE_PREFIX } from '../../registry/keys.js';
import {
  announceMachine,
  connect,
  type FakeMachine,
  serviceText,
  TEST_PREFIX,
  unitSpec,
  waitFor,
} from '../support/campaign-fixtures.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';

const ROOT = resolve(import.meta.dirname, '../..');
const UNITS = 1000;
const KILLS = 20;
const MACHINES = 10;
const CANDIDATES = 4; // a standby is always up while a replacement starts (a tsx start takes seconds)
// 3 s: kills are replaced within seconds; with 2 s leases (1 s to prove them alive) a loaded machine
// deposed every leader before it placed anything.
const LEASE_TTL_S = 3;
const END_KEY = 'chaos-test/end';

interface Candidate {
  readonly id: string;
  readonly proc: ChildProcess;
}

let etcd: EtcdServer;
let client: Etcd3;
let ns: Namespace;
const machines: FakeMachine[] = [];
const candidates: Candidate[] = [];
let nextCandidate = 0;

function spawnCandidate(): Candidate {
  const id = `engine-${++nextCandidate}`;
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/support/campaign-engine.ts', etcd.endpoint, id, String(LEASE_TTL_S), '500'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, FLEET_LOG_LEVEL: process.env.FLEET_LOG_LEVEL ?? 'error' },
    },
  );
  const c = { id, proc };
  candidates.push(c);
  return c;
}

const alive = (c: Candidate) => c.proc.exitCode === null && c.proc.signalCode === null;

beforeAll(async () => {
  etcd = await startEtcd();
  ({ client, ns } = connect(etcd.endpoint, TEST_PREFIX));
  for (let i = 0; i < MACHINES; i++) {
    // Long machine leases: this run kills engines, not machines.
    machines.push(await announceMachine(ns, `machine${String(i).padStart(2, '0')}`, {}, 60));
  }
});

afterAll(async () => {
  for (const c of candidates) if (alive(c)) c.proc.kill('SIGKILL');
  for (const m of machines) m.crash();
  client?.close();
  await etcd?.stop();
});

/** The machine and unit of a `schedule/<machine>/<unit>` key. */
function scheduleEntry(key: string): { machine: string; unit: string } {
  const rest = key.slice(SCHEDULE_PREFIX.length);
  const slash = rest.indexOf('/');
  return { machine: rest.slice(0, slash), unit: rest.slice(slash + 1) };
}

interface Violation {
  readonly revision: string;
  readonly what: string;
}

/**
 * Replays every change of `schedule/` from `fromRevision` up to the write of END_KEY at `toRevision`
 * (etcd keeps the whole history: the test etcd never compacts) and checks the invariants after each
 * revision. The watch covers the whole prefix so that END_KEY, written last, ends the replay.
 */
async function replaySchedule(fromRevision: string, toRevision: bigint) {
  const placements = new Map<string, Set<string>>(); // unit -> machines
  const everPlaced = new Set<string>();
  const violations: Violation[] = [];
  let revisions = 0;
  const watcher = await client.watch().prefix(TEST_PREFIX).startRevision(fromRevision).create();
  try {
    await new Promise<void>((done, fail) => {
      watcher.on('error', fail);
      watcher.on('data', (res) => {
        // One response may carry several revisions; a transaction's events share one revision.
        const byRevision = new Map<string, typeof res.events>();
        for (const ev of res.events) {
          const rev = ev.kv.mod_revision;
          byRevision.set(rev, [...(byRevision.get(rev) ?? []), ev]);
        }
        for (const [rev, events] of byRevision) {
          const touched = new Set<string>();
          for (const ev of events) {
            const key = ev.kv.key.toString().slice(TEST_PREFIX.length);
            if (!key.startsWith(SCHEDULE_PREFIX)) continue;
            const { machine, unit } = scheduleEntry(key);
            const on = placements.get(unit) ?? new Set<string>();
            if (ev.type === 'Put') on.add(machine);
            else on.delete(machine);
            placements.set(unit, on);
            touched.add(unit);
          }
          if (touched.size > 0) revisions++;
          for (const unit of touched) {
            const on = placements.get(unit)?.size ?? 0;
            if (on > 1)
              violations.push({ revision: rev, what: `${unit} on ${[...(placements.get(unit) ?? [])]}` });
            if (on === 0 && everPlaced.has(unit)) violations.push({ revision: rev, what: `${unit} lost` });
            if (on > 0) everPlaced.add(unit);
          }
          if (BigInt(rev) >= toRevision) done();
        }
      });
    });
  } finally {
    await watcher.cancel();
  }
  return { placements, violations, revisions };
}

describe('chaos: the engine leader SIGKILLed 20 times during a 1,000-unit rollout', () => {
  it('never schedules a unit twice, never loses one, and converges', async () => {
    const t0 = Date.now();
    const startRevision = (await ns.get(ENGINE_LEADER_KEY).exec()).header.revision;
    for (let i = 0; i < CANDIDATES; i++) spawnCandidate();
    const reg = etcdRegistryOn(ns);
    const names = Array.from({ length: UNITS }, (_, i) => `chaos-${String(i).padStart(4, '0')}.service`);
    const perRound = Math.ceil(UNITS / KILLS);
    const placedCount = async () => (await ns.getAll().prefix(SCHEDULE_PREFIX).keys()).length;

    const killed: string[] = [];
    for (let round = 0; round < KILLS; round++) {
      // Submit the next slice of the rollout without waiting for it to be placed.
      const slice = names.slice(round * perRound, (round + 1) * perRound);
      await Promise.all(slice.map((n) => reg.createUnit(unitSpec(n, serviceText()))));
      // Wait for a live leader that is placing this slice, then kill it mid-rollout.
      const before = await placedCount();
      const leader = await waitFor(
        `a leader placing units (round ${round + 1})`,
        async () => {
          const id = await ns.get(ENGINE_LEADER_KEY).string();
          const c = candidates.find((x) => x.id === id && alive(x));
          return c && (await placedCount()) > before ? c : null;
        },
        60_000,
        20,
      );
      leader.proc.kill('SIGKILL');
      killed.push(leader.id);
      if (candidates.filter(alive).length < CANDIDATES) spawnCandidate();
    }
    const rolledOut = Date.now();

    // Converged: every unit placed exactly once, on a known machine.
    const machineIDs = new Set(machines.map((m) => m.id));
    await waitFor(
      'every unit placed',
      async () => {
        const keys = await ns.getAll().prefix(SCHEDULE_PREFIX).keys();
        return keys.length >= UNITS ? keys : null;
      },
      60_000,
      200,
    );
    const converged = Date.now();
    const final = await ns.getAll().prefix(SCHEDULE_PREFIX).keys();
    const finalRevision = BigInt((await ns.put(END_KEY).value('1').exec()).header.revision);
    const byUnit = new Map<string, string[]>();
    for (const k of final) {
      const { machine, unit } = scheduleEntry(k);
      expect(machineIDs.has(machine)).toBe(true);
      byUnit.set(unit, [...(byUnit.get(unit) ?? []), machine]);
    }
    expect([...byUnit.keys()].sort()).toEqual(names);
    expect([...byUnit.values()].filter((on) => on.length !== 1)).toEqual([]);
    expect((await ns.getAll().prefix(JOB_PREFIX).keys()).length).toBe(UNITS);

    // Every revision of the run, replayed.
    const history = await replaySchedule(startRevision, finalRevision);
    expect(history.violations).toEqual([]);
    expect(history.placements.size).toBe(UNITS);
    expect(new Set(killed).size).toBe(KILLS);
    console.log(
      `chaos: ${KILLS} leaders SIGKILLed during a ${UNITS}-unit rollout on ${MACHINES} machines; ` +
        `rollout ${rolledOut - t0} ms, converged ${converged - t0} ms; ` +
        `${history.revisions} schedule revisions replayed, 0 violations`,
    );
  }, 600_000); // a bound; ~1-2 min on an idle 2-core machine
});
