// Watched unit directory: how replaced units roll out (template instances one at a time, rollback of an
// unhealthy version) and what happens when two watchers or two fleetds replace the same unit.
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executePlan, type WatchRegistry } from '../../cli/watch/execute.js';
import type { SyncPlan } from '../../cli/watch/plan.js';
import { eventually } from './cli-helpers.js';
import {
  activeHash,
  captureLog,
  hashOf,
  jobVersion,
  newDir,
  registry,
  running,
  unitSpecOf,
  unitText,
  useWatchDirCluster,
  watchDir,
} from './watch-dir-helpers.js';

useWatchDirCluster();

describe('watched unit directory', () => {
  it('rolling replace of template instances: one at a time, each active before the next', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'roll@.service'), unitText('roll v1'));
    for (const i of [1, 2, 3]) symlinkSync('roll@.service', join(dir, `roll@${i}.service`));
    const v2 = hashOf(unitText('roll v2'));
    // Observe every registry write: at each replace, every instance replaced before must already run v2.
    const observations: { unit: string; earlierActive: boolean[] }[] = [];
    const replaced: string[] = [];
    const observing: WatchRegistry = {
      ...registry,
      listUnits: () => registry.listUnits(),
      getUnit: (n) => registry.getUnit(n),
      listUnitStates: () => registry.listUnitStates(),
      setDesiredState: (n, s) => registry.setDesiredState(n, s),
      destroyUnit: (n) => registry.destroyUnit(n),
      createUnit: async (spec, opts) => {
        if (opts?.replace) {
          const earlierActive = await Promise.all(replaced.map(async (u) => (await activeHash(u)) === v2));
          observations.push({ unit: spec.name, earlierActive });
          replaced.push(spec.name);
        }
        return registry.createUnit(spec, opts);
      },
    };
    const { watcher } = watchDir(dir, { registry: observing });
    await watcher.firstPass;
    for (const i of [1, 2, 3]) {
      await eventually(`roll@${i} active`, async () => (await activeHash(`roll@${i}.service`)) !== undefined);
    }

    writeFileSync(join(dir, 'roll@.service'), unitText('roll v2'));
    for (const i of [1, 2, 3]) {
      await eventually(`roll@${i} on v2`, async () => (await activeHash(`roll@${i}.service`)) === v2, 60_000);
    }
    expect(observations.map((o) => o.unit)).toEqual(['roll@1.service', 'roll@2.service', 'roll@3.service']);
    expect(observations.map((o) => o.earlierActive)).toEqual([[], [true], [true, true]]);
  });

  it('an unhealthy new version stops the roll after the first instance, rolls it back, and is not retried', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'brk@.service'), unitText('brk v1'));
    for (const i of [1, 2, 3]) symlinkSync('brk@.service', join(dir, `brk@${i}.service`));
    const { watcher, lines } = watchDir(dir, {
      waitActive: { timeoutMs: 4000, pollMs: 50, minHealthyMs: 200 },
    });
    await watcher.firstPass;
    const v1 = hashOf(unitText('brk v1'));
    for (const i of [1, 2, 3]) {
      await eventually(`brk@${i} active`, async () => (await activeHash(`brk@${i}.service`)) === v1);
    }
    const replaces: string[] = [];
    const v2Text = `${unitText('brk v2')}\n[X-Fleet]\nHealthCheck=/bin/false\nHealthCheckIntervalSec=100ms\n`;
    writeFileSync(join(dir, 'brk@.service'), v2Text);
    await eventually('roll stopped', async () =>
      lines.some((l) => /rolling replace of brk@\.service/.test(l.msg)),
    );
    const stopLine = lines.find((l) => /rolling replace of brk@\.service/.test(l.msg))?.msg ?? '';
    expect(stopLine).toContain('brk@1.service was not healthy');
    expect(stopLine).toContain('1 rolled back, 2 kept the old version');
    // Several more passes: nothing is replaced again, and the problem is not logged again.
    const writes = lines.length;
    await watcher.rescan();
    await watcher.rescan();
    for (const l of lines.slice(writes)) if (/: replacing/.test(l.msg)) replaces.push(l.msg);
    expect(replaces).toEqual([]);
    for (const i of [1, 2, 3]) expect((await registry.getUnit(`brk@${i}.service`))?.hash).toBe(v1);
    await eventually('brk@1 active again on v1', async () => (await activeHash('brk@1.service')) === v1);
    expect(await activeHash('brk@2.service')).toBe(v1);
    expect(await activeHash('brk@3.service')).toBe(v1);
    expect(lines.filter((l) => /rolling replace of brk@\.service/.test(l.msg)).length).toBe(1);
    // A fixed file is rolled out.
    writeFileSync(join(dir, 'brk@.service'), unitText('brk v3'));
    const v3 = hashOf(unitText('brk v3'));
    for (const i of [1, 2, 3]) {
      await eventually(`brk@${i} on v3`, async () => (await activeHash(`brk@${i}.service`)) === v3, 30_000);
    }
  });

  it('two watchers of identical directories converge without fighting', async () => {
    const [d1, d2] = [newDir(), newDir()];
    for (const d of [d1, d2]) {
      writeFileSync(join(d, 'twin-a.service'), unitText('twin a'));
      writeFileSync(join(d, 'twin@.service'), unitText('twin t'));
      symlinkSync('twin@.service', join(d, 'twin@1.service'));
    }
    const writes: string[] = [];
    const onApplied = (a: { kind: string; unit: string }) => writes.push(`${a.kind} ${a.unit}`);
    const w1 = watchDir(d1, { origin: 'twins', onApplied }).watcher;
    const w2 = watchDir(d2, { origin: 'twins', onApplied }).watcher;
    await Promise.all([w1.firstPass, w2.firstPass]);
    await eventually('twins running', async () => running('twin-a.service') && running('twin@1.service'));
    expect(writes.sort()).toEqual(['submit twin-a.service', 'submit twin@1.service']);
    expect(await jobVersion('twin-a.service')).toBe(1);

    // Same change in both directories: the unit is replaced, and at most once more by the slower one.
    for (const d of [d1, d2]) writeFileSync(join(d, 'twin-a.service'), unitText('twin a2'));
    await eventually(
      'a2 active',
      async () => (await activeHash('twin-a.service')) === hashOf(unitText('twin a2')),
    );
    await Promise.all([w1.rescan(), w2.rescan()]);
    const settled = writes.length;
    for (let i = 0; i < 3; i++) await Promise.all([w1.rescan(), w2.rescan()]);
    expect(writes.length).toBe(settled);
    // Replaced exactly once: the slower watcher either saw the new version or lost the expectHash race.
    expect(await jobVersion('twin-a.service')).toBe(2);
    expect(writes.filter((w) => w === 'replace twin-a.service')).toHaveLength(1);
  });

  it('two fleetds replacing the same unit at the same moment: exactly one writes, the job is written once', async () => {
    const origin = 'watch:/srv/race';
    const v1 = unitSpecOf('race.service', unitText('race v1'), origin);
    const v2 = unitSpecOf('race.service', unitText('race v2'), origin);
    expect(await registry.createUnit(v1)).toBe(true);
    const plan: SyncPlan = {
      actions: [
        { kind: 'replace', unit: 'race.service', spec: v2, previousHash: v1.hash, reason: 'file changed' },
      ],
      problems: [],
    };
    // Both fleetds read the unit (still v1) before either writes: the window the re-read alone leaves open.
    let arrived = 0;
    let release: () => void = () => {};
    const bothRead = new Promise<void>((r) => {
      release = r;
    });
    const racing = (): WatchRegistry => ({
      ...registry,
      getUnit: async (n) => {
        const u = await registry.getUnit(n);
        if (++arrived === 2) release();
        await bothRead;
        return u;
      },
    });
    const { log } = captureLog();
    const results = await Promise.all([
      executePlan(plan, { registry: racing(), origin, log }),
      executePlan(plan, { registry: racing(), origin, log }),
    ]);
    expect(results.flatMap((r) => r.failed)).toEqual([]);
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 1]);
    expect(results.map((r) => r.skipped.length).sort()).toEqual([0, 1]);
    expect((await registry.getUnit('race.service'))?.hash).toBe(v2.hash);
    expect(await jobVersion('race.service')).toBe(2);
    await registry.destroyUnit('race.service');
  });
});
