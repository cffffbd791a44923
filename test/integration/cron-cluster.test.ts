// Cluster cron against a real etcd: real engines (leader election + planner + cron) in-process and
// simulated machines (real agents over the in-memory systemd, oneshot runs that take a set time).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3, Namespace } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Agent, startAgent } from '../../agent/agent.js';
import { InMemorySystemd } from '../../agent/systemd/fake.js';
import { UnitFileStore } from '../../agent/unit-files.js';
import { type Cron, startCron } from '../../engine/cron/cron.js';
import { type Engine, startEngine } from '../../engine/engine.js';
import { createLeaderElection, type LeaderElection } from '../../engine/leader.js';
import { EtcdAgentStore } from '../../registry/agent-store.js';
import { createEtcdClient } from '../../registry/client.js';
import { createEngineStore } from '../../registry/engine-store.js';
import { etcdRegistryOn } from '../../registry/etcd-registry.js';
import { createRunReporter, listRuns } from '../../registry/runs.js';
import { isActiveRun, type RunRecord } from '../../units/runs.js';
import { quietLog, serviceText, sleep, unitSpec, waitFor } from '../support/campaign-fixtures.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { fleetctlAt, unitDir } from './cli-helpers.js';

let etcd: EtcdServer;
const clients: Etcd3[] = [];
let cleanups: (() => Promise<void>)[] = [];
let prefixN = 0;

beforeAll(async () => {
  etcd = await startEtcd();
}, 180_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await etcd?.stop();
});

afterEach(async () => {
  for (const f of cleanups.reverse()) await f().catch(() => undefined);
  cleanups = [];
});

let lastPrefix = '';
function freshNs(): Namespace {
  const prefix = `/cron-test-${process.pid}-${prefixN++}/`;
  lastPrefix = prefix;
  const client = createEtcdClient({ endpoints: [etcd.endpoint], keyPrefix: prefix, requestTimeoutMs: 2000 });
  clients.push(client);
  return client.namespace(prefix);
}

interface Machine {
  readonly id: string;
  readonly driver: InMemorySystemd;
  readonly agent: Agent;
}

async function startMachine(
  ns: Namespace,
  id: string,
  metadata: Record<string, string> = {},
): Promise<Machine> {
  const root = await mkdtemp(join(tmpdir(), 'fleet-ts-cron-'));
  const driver = new InMemorySystemd({ systemdDir: join(root, 'system') });
  const log = quietLog('agent');
  const agent = startAgent({
    machineID: id,
    publicIP: '127.0.0.1',
    metadata,
    store: new EtcdAgentStore({ etcd: ns, machineID: id, ttlMs: 15_000, log }),
    driver,
    files: new UnitFileStore({ unitsDir: join(root, 'units'), systemdDir: join(root, 'system') }),
    ttlMs: 15_000,
    log,
    pollIntervalMs: 100,
    debounceMs: 5,
    runs: createRunReporter(ns),
  });
  await agent.ready;
  cleanups.push(async () => {
    await agent.stop({ purge: false });
    await rm(root, { recursive: true, force: true });
  });
  return { id, driver, agent };
}

interface EngineNode {
  readonly leader: LeaderElection;
  readonly engine: Engine;
  readonly cron: Cron;
  stop(): Promise<void>;
}

/** The clock cron reads (default the wall clock); a test clock lets a test make time pass at once. */
function startEngineNode(ns: Namespace, machineID: string, now?: () => number): EngineNode {
  const log = quietLog('engine');
  // A 10 s lease: with 2 s (1 s to prove the lease alive) a loaded machine's event-loop delays deposed
  // the leader again and again, and each new leadership turned the ticks in between into missed ones.
  // Failover in these tests is a resignation (stop), which does not wait for the lease.
  const leader = createLeaderElection({ ns, machineID, ttlSeconds: 10, retryIntervalMs: 200, log });
  const engine = startEngine({
    store: createEngineStore(ns, log),
    leader,
    log,
    reconcileIntervalMs: 500,
    machineID,
  });
  const cron = startCron({ ns, leader, log, pollIntervalMs: 100, graceMs: 1000, ...(now ? { now } : {}) });
  leader.start();
  let stopped = false;
  const node = {
    leader,
    engine,
    cron,
    async stop() {
      if (stopped) return;
      stopped = true;
      await cron.stop();
      await engine.stop();
      await leader.stop();
    },
  };
  cleanups.push(() => node.stop());
  return node;
}

const oneshotText = (xfleet: string[]): string => serviceText(xfleet, 'Type=oneshot\nExecStart=/bin/true');

/** Oldest first. */
async function runs(ns: Namespace, unit: string): Promise<RunRecord[]> {
  return (await listRuns(ns, unit)).reverse();
}

const totalStarts = (machines: readonly Machine[], unit: string): number =>
  machines.reduce((n, m) => n + (m.driver.oneshotStarts.get(unit) ?? 0), 0);

/** The unit's number of run records once it has not changed for `quietMs`. */
async function settledRunCount(ns: Namespace, unit: string, quietMs = 2000): Promise<number> {
  let count = -1;
  let since = Date.now();
  return waitFor(
    `${unit}'s run records to stop changing`,
    async () => {
      const n = (await runs(ns, unit)).length;
      if (n !== count) {
        count = n;
        since = Date.now();
        return null;
      }
      return Date.now() - since >= quietMs ? n : null;
    },
    60_000,
    100,
  );
}

/** Consecutive ticks of a `*\/step` seconds schedule: each exactly step s after the previous one. */
function expectConsecutive(records: readonly RunRecord[], stepMs: number): void {
  for (let i = 1; i < records.length; i++) {
    expect(Date.parse(records[i]!.tick) - Date.parse(records[i - 1]!.tick)).toBe(stepMs);
  }
}

describe('cluster cron', () => {
  it('runs a scheduled oneshot once per tick on one machine and records the result', async () => {
    const ns = freshNs();
    const machines = [await startMachine(ns, 'm1'), await startMachine(ns, 'm2')];
    for (const m of machines) m.driver.oneshot('job.service', { durationMs: 200 });
    startEngineNode(ns, 'm1');
    await etcdRegistryOn(ns).createUnit(unitSpec('job.service', oneshotText(['Schedule=*/2 * * * * *'])));

    const done = await waitFor(
      'four finished runs',
      async () => {
        const r = (await runs(ns, 'job.service')).filter((x) => x.status === 'succeeded');
        return r.length >= 4 ? r : null;
      },
      60_000,
    );
    const all = await runs(ns, 'job.service');
    // Every tick is recorded once, two seconds apart.
    expectConsecutive(all, 2000);
    // Nothing missed or failed. A tick may be skipped only because the previous run was still active
    // (ScheduleOverlap=skip, the default): on a busy machine a 0.2 s run can take longer than 2 s.
    expect(
      all.filter(
        (r) =>
          !['scheduled', 'running', 'succeeded'].includes(r.status) &&
          !(r.status === 'skipped' && /^overlap: run /.test(r.reason ?? '')),
      ),
    ).toEqual([]);
    for (const r of done) {
      expect(r.machineID === 'm1' || r.machineID === 'm2').toBe(true);
      expect(r.exitStatus).toBe(0);
      expect(r.result).toBe('success');
      expect(Date.parse(r.startedAt!)).toBeGreaterThanOrEqual(Date.parse(r.tick) - 1000);
      expect(Date.parse(r.endedAt!)).toBeGreaterThanOrEqual(Date.parse(r.startedAt!));
    }
    // Exactly one start per run that got placed.
    const placed = (await runs(ns, 'job.service')).filter((r) => r.machineID !== undefined);
    await waitFor('starts to match runs', async () => {
      const p = (await runs(ns, 'job.service')).filter((r) => r.machineID !== undefined);
      return totalStarts(machines, 'job.service') === p.length || null;
    });
    expect(placed.length).toBeGreaterThanOrEqual(4);
  }, 180_000);

  it('honours MachineMetadata and reports a failing run with its exit status', async () => {
    const ns = freshNs();
    const machines = [
      await startMachine(ns, 'a1', { role: 'web' }),
      await startMachine(ns, 'b1', { role: 'db' }),
    ];
    for (const m of machines) m.driver.oneshot('backup.service', { durationMs: 100, exitStatus: 3 });
    startEngineNode(ns, 'a1');
    await etcdRegistryOn(ns).createUnit(
      unitSpec('backup.service', oneshotText(['Schedule=* * * * * *', 'MachineMetadata=role=db'])),
    );
    const finished = await waitFor(
      'three finished runs',
      async () => {
        const r = (await runs(ns, 'backup.service')).filter((x) => x.status === 'failed');
        return r.length >= 3 ? r : null;
      },
      60_000,
    );
    for (const r of finished) {
      expect(r.machineID).toBe('b1');
      expect(r.exitStatus).toBe(3);
      expect(r.result).toBe('exit-code');
    }
    expect(machines[0]!.driver.oneshotStarts.get('backup.service') ?? 0).toBe(0);
  }, 180_000);

  it('skips (and records) ticks while the previous run is active; ScheduleOverlap=allow runs them elsewhere', async () => {
    const ns = freshNs();
    const machines = [await startMachine(ns, 'o1'), await startMachine(ns, 'o2')];
    for (const m of machines) {
      m.driver.oneshot('slow.service', { durationMs: 2500 });
      m.driver.oneshot('par.service', { durationMs: 1500 });
    }
    startEngineNode(ns, 'o1');
    const reg = etcdRegistryOn(ns);
    await reg.createUnit(unitSpec('slow.service', oneshotText(['Schedule=* * * * * *'])));
    await reg.createUnit(
      unitSpec('par.service', oneshotText(['Schedule=* * * * * *', 'ScheduleOverlap=allow'])),
    );

    const slow = await waitFor(
      'a skipped overlap and two finished runs',
      async () => {
        const r = await runs(ns, 'slow.service');
        const ok = r.filter((x) => x.status === 'succeeded').length >= 2;
        return ok && r.some((x) => x.status === 'skipped') ? r : null;
      },
      60_000,
    );
    for (const r of slow.filter((x) => x.status === 'skipped')) expect(r.reason).toMatch(/^overlap: run /);
    // Never two slow runs at once: each run starts after the previous one ended.
    const ran = slow.filter((x) => x.status === 'succeeded');
    for (let i = 1; i < ran.length; i++) {
      expect(Date.parse(ran[i]!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(ran[i - 1]!.endedAt!) - 1000);
    }
    expectConsecutive(slow, 1000);

    const par = await runs(ns, 'par.service');
    const parRan = par.filter((x) => x.machineID !== undefined);
    // 1.5 s runs every second on two machines: consecutive runs alternate machines.
    expect(parRan.length).toBeGreaterThanOrEqual(3);
    expect(new Set(parRan.map((r) => r.machineID))).toEqual(new Set(['o1', 'o2']));
    expect(par.filter((x) => x.status === 'skipped' && !/every machine/.test(x.reason ?? ''))).toEqual([]);
  }, 180_000);

  it('records ticks missed without a leader; ScheduleMissed=run runs the newest one late', async () => {
    const ns = freshNs();
    const machines = [await startMachine(ns, 'x1')];
    machines[0]!.driver.oneshot('skip.service', { durationMs: 100 });
    machines[0]!.driver.oneshot('late.service', { durationMs: 100 });
    // Cron reads a test clock: wall time plus an offset, or frozen. The test stops time while the
    // first leader's runs finish, moves it over the leaderless gap at once (no sleep), and lets the
    // successor's first pass see the instant it was elected however slowly this machine gets to it.
    // With the wall clock, on a busy machine, (a) late.service's run from before the gap was still
    // active when the successor decided the gap, so the tick to run late was skipped for overlap, and
    // (b) a first pass delayed past the next */2 tick found an on-time tick, which (rightly)
    // supersedes the late run.
    let offset = 0;
    let frozen: number | undefined;
    const clock = () => frozen ?? Date.now() + offset;
    const first = startEngineNode(ns, 'x1', clock);
    const reg = etcdRegistryOn(ns);
    await reg.createUnit(unitSpec('skip.service', oneshotText(['Schedule=* * * * * *'])));
    await reg.createUnit(
      unitSpec('late.service', oneshotText(['Schedule=*/2 * * * * *', 'ScheduleMissed=run'])),
    );
    // Both units must have a tick decided before the leader goes: a successor catches up (records
    // missed ticks) only from a unit's newest decided tick; a unit no leader ever ticked starts fresh.
    // (Waiting for late.service alone raced with the same pass deciding skip.service a moment later.)
    await waitFor(
      'a decided tick of each unit',
      async () =>
        ((await runs(ns, 'late.service')).length >= 1 && (await runs(ns, 'skip.service')).length >= 1) ||
        null,
      60_000,
    );
    frozen = clock();
    await waitFor(
      'the runs decided so far to finish',
      async () =>
        (await runs(ns, 'late.service')).every((r) => !isActiveRun(r)) &&
        (await runs(ns, 'skip.service')).every((r) => !isActiveRun(r)),
      60_000,
    );
    await first.stop();
    // No leader for 5 s or more, ending 1.5 s after an even second: every */2 tick of the gap is
    // older than the 1 s grace (overdue), so the newest of them runs late.
    const gapEnd = frozen + 5000;
    frozen = gapEnd - (gapEnd % 2000) + 3500;
    startEngineNode(ns, 'x1', clock);
    await waitFor(
      'the successor decides the gap',
      async () => (await runs(ns, 'late.service')).some((x) => x.late === true) || null,
      60_000,
    );
    offset = frozen - Date.now(); // time runs on from where it stood
    frozen = undefined;
    const skip = await waitFor(
      'missed ticks recorded',
      async () => {
        const r = await runs(ns, 'skip.service');
        return r.filter((x) => x.status === 'missed').length >= 3 &&
          r.some(
            (x) =>
              x.status === 'succeeded' &&
              Date.parse(x.tick) > Date.parse(r.find((y) => y.status === 'missed')!.tick),
          )
          ? r
          : null;
      },
      60_000,
    );
    expectConsecutive(skip, 1000); // every tick accounted for, none twice
    const late = await waitFor(
      'a late run',
      async () => {
        const r = await runs(ns, 'late.service');
        return r.some((x) => x.late === true && x.status === 'succeeded') ? r : null;
      },
      60_000,
    );
    expectConsecutive(late, 2000);
    // Only the newest missed tick runs late; older ones are recorded missed.
    const lateRuns = late.filter((x) => x.late === true);
    expect(lateRuns).toHaveLength(1);
    const gap = late.filter((x) => x.status === 'missed');
    for (const g of gap) expect(Date.parse(g.tick)).toBeLessThan(Date.parse(lateRuns[0]!.tick));
  }, 180_000);

  it('never runs a tick twice when the leader dies mid-schedule', async () => {
    const ns = freshNs();
    const machines = [
      await startMachine(ns, 'f1'),
      await startMachine(ns, 'f2'),
      await startMachine(ns, 'f3'),
    ];
    for (const m of machines) m.driver.oneshot('tick.service', { durationMs: 100 });
    const a = startEngineNode(ns, 'f1');
    const b = startEngineNode(ns, 'f2');
    await etcdRegistryOn(ns).createUnit(
      unitSpec('tick.service', oneshotText(['Schedule=* * * * * *', 'ScheduleMissed=run'])),
    );
    await waitFor('three runs', async () => (await runs(ns, 'tick.service')).length >= 3 || null, 60_000);
    // Kill whichever leads; the other takes over.
    const leaderNode = a.leader.isLeader() ? a : b;
    const other = leaderNode === a ? b : a;
    await leaderNode.stop();
    await waitFor('the other engine leads', async () => other.leader.isLeader() || null, 60_000);
    const before = (await runs(ns, 'tick.service')).length;
    await waitFor(
      'runs continue',
      async () => (await runs(ns, 'tick.service')).length >= before + 3 || null,
      60_000,
    );
    const all = await runs(ns, 'tick.service');
    expectConsecutive(all, 1000);
    await waitFor('starts match runs', async () => {
      const placed = (await runs(ns, 'tick.service')).filter((r) => r.machineID !== undefined).length;
      return totalStarts(machines, 'tick.service') === placed || null;
    });
  }, 180_000);

  it('fleetctl: rejects an invalid Schedule at submit, shows the schedule and the last runs', async () => {
    const ns = freshNs();
    const prefix = lastPrefix;
    const m = await startMachine(ns, 'c1');
    m.driver.oneshot('nightly.service', { durationMs: 50 });
    const engine = startEngineNode(ns, 'c1');
    const dir = unitDir({
      'bad.service': oneshotText(['Schedule=61 * * * *']),
      'nightly.service': oneshotText(['Schedule=* * * * * *']),
    });
    const fleetctl = fleetctlAt(etcd.endpoint, dir);
    const bad = await fleetctl(`--etcd-key-prefix=${prefix}`, 'submit', 'bad.service');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid Schedule "61 * * * *": CronPattern: Invalid value for minute: 61');
    expect(await etcdRegistryOn(ns).getUnit('bad.service')).toBeNull();

    const ok = await fleetctl(`--etcd-key-prefix=${prefix}`, 'start', '--no-block', 'nightly.service');
    expect(ok.code).toBe(0);
    const files = await fleetctl(
      `--etcd-key-prefix=${prefix}`,
      'list-unit-files',
      '--fields=unit,dstate,schedule',
    );
    expect(files.stdout.split('\n')[1]?.split(/\t+/)).toEqual(['nightly.service', 'launched', '* * * * * *']);

    await waitFor('three finished runs', async () => {
      const r = await runs(ns, 'nightly.service');
      return r.filter((x) => x.status === 'succeeded').length >= 3 || null;
    });
    // Freeze the history before comparing fleetctl's view with ours: with a tick every second, a run
    // recorded between fleetctl's read and ours (a slow fleetctl start on a busy machine) shifted the
    // newest two. The agent still finishes a run already placed.
    await engine.stop();
    await waitFor(
      'the newest two runs finished',
      async () => (await listRuns(ns, 'nightly.service', 2)).every((r) => !isActiveRun(r)) || null,
    );
    const out = await fleetctl(`--etcd-key-prefix=${prefix}`, 'list-runs', '--lines', '2', 'nightly.service');
    expect(out.code).toBe(0);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines[0]?.split(/\t+/)).toEqual(['TICK', 'MACHINE', 'START', 'END', 'RESULT']);
    expect(lines).toHaveLength(4);
    // The armed unit's next tick comes first (RESULT next), after every recorded tick.
    const [nextTick, ...rest] = lines.slice(1);
    expect(nextTick?.split(/\t+/)).toEqual([expect.any(String), '-', '-', '-', 'next']);
    const newest = await listRuns(ns, 'nightly.service', 2);
    // Each line is that record: tick, machine ('-' for a tick that did not run), and its status.
    expect(rest.map((l) => l.split(/\t+/))).toEqual(
      newest.map((r) => [
        r.tick,
        r.machineID ?? '-',
        expect.anything(),
        expect.anything(),
        expect.stringMatching(new RegExp(`^${r.status}`)),
      ]),
    );
    expect(Date.parse(nextTick!.split('\t')[0]!)).toBeGreaterThan(Date.parse(newest[0]!.tick));
    // (On a busy machine the newest two may be ticks skipped while a run was still active.)
    const all = await fleetctl(
      `--etcd-key-prefix=${prefix}`,
      'list-runs',
      '--lines',
      '1000',
      'nightly.service',
    );
    expect(
      all.stdout.split('\n').filter((l) => /\tc1\t.*\tsucceeded$/.test(l)).length,
    ).toBeGreaterThanOrEqual(3);

    const missing = await fleetctl(`--etcd-key-prefix=${prefix}`, 'list-runs', 'nope.service');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Unit nope.service not found');
  }, 180_000);
});

describe('fleetctl lifecycle of a cluster cron unit', () => {
  /** The engine-node cluster of these tests and fleetctl (etcd driver) on its key prefix. */
  async function cronCluster(files: Record<string, string>) {
    const ns = freshNs();
    const prefix = lastPrefix;
    const m = await startMachine(ns, 'l1');
    for (const [name, text] of Object.entries(files)) {
      if (text.includes('Schedule=')) m.driver.oneshot(name, { durationMs: 50 });
    }
    startEngineNode(ns, 'l1');
    const dir = unitDir(files);
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const run = fleetctlAt(etcd.endpoint, dir);
    const fleetctl = (...args: string[]) => run(`--etcd-key-prefix=${prefix}`, ...args);
    return { ns, machine: m, fleetctl };
  }

  const desired = async (ns: Namespace, unit: string) =>
    (await etcdRegistryOn(ns).getUnit(unit))?.desiredState;

  it('start arms, stop pauses, restart re-arms, unload, restart refused when unloaded, destroy removes the runs', async () => {
    const { ns, fleetctl } = await cronCluster({
      'job.service': oneshotText(['Schedule=* * * * * *']),
    });

    // start: created, then armed; no machine to name and no systemd activity to wait for.
    const start = await fleetctl('start', 'job.service');
    expect(start).toEqual({
      code: 0,
      stdout: 'Unit job.service inactive\nUnit job.service launched\n',
      stderr: '',
    });
    await waitFor('two succeeded runs', async () => {
      const r = await runs(ns, 'job.service');
      return r.filter((x) => x.status === 'succeeded').length >= 2 || null;
    });

    // stop: paused; no tick after the pause is recorded.
    const stop = await fleetctl('stop', 'job.service');
    expect(stop).toEqual({
      code: 0,
      stdout: 'Unit job.service loaded\n',
      stderr: 'Successfully stopped units [job.service].\n',
    });
    expect(await desired(ns, 'job.service')).toBe('loaded');
    // Ticks decided before the engine saw the stop may still land (later on a busy machine): wait
    // until no record has been added for 2 s, then no tick may be recorded for 3 s more.
    const paused = await settledRunCount(ns, 'job.service');
    await sleep(3000);
    expect((await runs(ns, 'job.service')).length).toBe(paused);

    // stop again: already paused, nothing to do (as for a stopped unit).
    const again = await fleetctl('stop', 'job.service');
    expect(again).toEqual({ code: 0, stdout: '', stderr: 'Successfully stopped units [].\n' });

    // restart of a paused unit arms it again: ticks run again.
    const pausedAt = Date.now();
    const restart = await fleetctl('restart', 'job.service');
    expect(restart).toEqual({ code: 0, stdout: 'Unit job.service launched\n', stderr: '' });
    expect(await desired(ns, 'job.service')).toBe('launched');
    await waitFor('a run after the restart', async () => {
      const r = await runs(ns, 'job.service');
      return r.some((x) => x.status === 'succeeded' && Date.parse(x.tick) > pausedAt) || null;
    });

    // restart of an armed unit leaves it armed (no stop in between).
    expect(await fleetctl('restart', 'job.service')).toEqual({
      code: 0,
      stdout: 'Unit job.service launched\n',
      stderr: '',
    });
    expect(await desired(ns, 'job.service')).toBe('launched');

    // unload, then restart and stop are refused like for an inactive unit.
    const unload = await fleetctl('unload', 'job.service');
    expect(unload).toEqual({
      code: 0,
      stdout: 'Unit job.service inactive\n',
      stderr: 'Successfully unloaded units [job.service].\n',
    });
    const refused = await fleetctl('restart', 'job.service');
    expect(refused).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'Unable to restart unit job.service in state inactive\nFailed to restart units [job.service].\n',
    });
    const stopRefused = await fleetctl('stop', 'job.service');
    expect(stopRefused).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Unable to stop unit job.service in state inactive\n',
    });
    expect(await desired(ns, 'job.service')).toBe('inactive');
    expect((await runs(ns, 'job.service')).length).toBeGreaterThan(0);

    // destroy: the unit and its run history are gone; list-runs says so.
    const destroy = await fleetctl('destroy', 'job.service');
    expect(destroy).toEqual({ code: 0, stdout: 'Destroyed job.service\n', stderr: '' });
    expect(await etcdRegistryOn(ns).getUnit('job.service')).toBeNull();
    expect(await listRuns(ns, 'job.service')).toEqual([]);
    const gone = await fleetctl('list-runs', 'job.service');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('Unit job.service not found');
  }, 180_000);

  it('destroy while armed stops the ticks; the same name started again begins a fresh history', async () => {
    const { ns, fleetctl } = await cronCluster({
      'again.service': oneshotText(['Schedule=* * * * * *', 'ScheduleMissed=run']),
    });
    expect((await fleetctl('start', 'again.service')).code).toBe(0);
    await waitFor('two runs', async () => {
      const r = await runs(ns, 'again.service');
      return r.filter((x) => x.status === 'succeeded').length >= 2 || null;
    });
    const destroy = await fleetctl('destroy', 'again.service');
    expect(destroy).toEqual({ code: 0, stdout: 'Destroyed again.service\n', stderr: '' });
    await sleep(3000); // ticks pass with no unit: none may be recorded
    expect(await listRuns(ns, 'again.service')).toEqual([]);

    const restartedAt = Date.now();
    const start = await fleetctl('start', 'again.service');
    expect(start).toEqual({
      code: 0,
      stdout: 'Unit again.service inactive\nUnit again.service launched\n',
      stderr: '',
    });
    const fresh = await waitFor('two runs of the new unit', async () => {
      const r = await runs(ns, 'again.service');
      return r.filter((x) => x.status === 'succeeded').length >= 2 ? r : null;
    });
    // Nothing of the destroyed unit's time is caught up: no missed tick, no late run, no old tick.
    for (const r of fresh) {
      expect(r.status === 'missed' || r.late === true).toBe(false);
      expect(Date.parse(r.tick)).toBeGreaterThanOrEqual(restartedAt - 1000);
    }
    expectConsecutive(fresh, 1000);
  }, 180_000);

  it('stop and restart of several units: a cron unit beside a normal one, unknown names reported', async () => {
    const { ns, fleetctl } = await cronCluster({
      'tick.service': oneshotText(['Schedule=0 0 1 1 *']),
      'web.service': serviceText(),
    });
    const start = await fleetctl('start', 'tick.service', 'web.service');
    expect(start.code).toBe(0);
    expect(start.stdout.split('\n').sort()).toEqual(
      [
        '',
        'Unit tick.service inactive',
        'Unit tick.service launched',
        'Unit web.service inactive',
        'Unit web.service launched on l1.../127.0.0.1',
      ].sort(),
    );
    const stop = await fleetctl('stop', 'tick.service', 'web.service', 'nope.service');
    expect(stop.code).toBe(1);
    expect(stop.stdout.split('\n').sort()).toEqual(
      ['', 'Unit tick.service loaded', 'Unit web.service loaded on l1.../127.0.0.1'].sort(),
    );
    expect(stop.stderr).toBe(
      'Unit nope.service not found\nSuccessfully stopped units [tick.service web.service].\n',
    );
    const restart = await fleetctl('restart', 'tick.service', 'web.service');
    expect(restart.code).toBe(0);
    expect(restart.stdout).toBe('Unit tick.service launched\nUnit web.service launched on l1.../127.0.0.1\n');
    expect(await desired(ns, 'tick.service')).toBe('launched');
    const destroy = await fleetctl('destroy', 'tick.service', 'web.service');
    expect(destroy).toEqual({
      code: 0,
      stdout: 'Destroyed tick.service\nDestroyed web.service\n',
      stderr: '',
    });
  }, 180_000);
});
