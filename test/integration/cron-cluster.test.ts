// Cluster cron against a real etcd: real engines (leader election + planner + cron) in-process and
// simulated machines (real agents over the in-memory systemd, oneshot runs that take a set time).
// Scheduling: one run per tick, metadata, overlap, missed ticks, leader loss.
import { describe, expect, it } from 'vitest';
import { etcdRegistryOn } from '../../registry/etcd-registry.js';
import { isActiveRun } from '../../units/runs.js';
import { unitSpec, waitFor } from '../support/campaign-fixtures.js';
import {
  expectConsecutive,
  freshNs,
  oneshotText,
  runs,
  startEngineNode,
  startMachine,
  totalStarts,
  useCronEtcd,
} from './cron-cluster-helpers.js';

useCronEtcd();

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
});
