// Cluster cron units through fleetctl (etcd driver) against a real etcd and simulated machines: Schedule
// checked at submit, status and runs shown, and the start/stop/restart/unload/destroy lifecycle.
import { rm } from 'node:fs/promises';
import type { Namespace } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { etcdRegistryOn } from '../../registry/etcd-registry.js';
import { listRuns } from '../../registry/runs.js';
import { isActiveRun } from '../../units/runs.js';
import { serviceText, sleep, waitFor } from '../support/campaign-fixtures.js';
import { fleetctlAt, unitDir } from './cli-helpers.js';
import {
  cleanups,
  etcd,
  expectConsecutive,
  freshNs,
  lastPrefix,
  oneshotText,
  runs,
  settledRunCount,
  startEngineNode,
  startMachine,
  useCronEtcd,
} from './cron-cluster-helpers.js';

useCronEtcd();

describe('cluster cron', () => {
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
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
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
