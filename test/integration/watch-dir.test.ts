// Watched unit directory against a real etcd, the real engine and agents (in-memory systemd): files
// dropped, replaced, rolled, broken and removed in a directory, and the cluster following them.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, type WatchRegistry } from '../../cli/watch/execute.js';
import { startFleetdUnitWatch } from '../../cli/watch/fleetd.js';
import type { SyncPlan } from '../../cli/watch/plan.js';
import {
  startUnitDirWatcher,
  type UnitDirWatcher,
  type UnitDirWatcherOptions,
} from '../../cli/watch/watcher.js';
import { etcdRegistryOn } from '../../registry/etcd-registry.js';
import { jobKey } from '../../registry/keys.js';
import type { Registry } from '../../registry/types.js';
import type { Logger } from '../../units/log.js';
import { parseUnitFile } from '../../units/parse.js';
import { unitHash } from '../../units/serialize.js';
import type { UnitSpec } from '../../units/types.js';
import { type SimCluster, startSimCluster } from '../support/sim-cluster.js';
import { eventually } from './cli-helpers.js';

const unitText = (what: string) =>
  `[Unit]\nDescription=${what}\n\n[Service]\nExecStart=/bin/sleep infinity\n`;
const hashOf = (text: string) => unitHash(parseUnitFile(text));
const unitSpecOf = (name: string, text: string, origin: string): UnitSpec => {
  const options = parseUnitFile(text);
  return { name, hash: unitHash(options), options, desiredState: 'launched', origin };
};

let cluster: SimCluster;
let registry: Registry;
const dirs: string[] = [];
const watchers: UnitDirWatcher[] = [];

beforeAll(async () => {
  cluster = await startSimCluster();
  registry = etcdRegistryOn(cluster.ns);
});

afterEach(async () => {
  for (const w of watchers.splice(0)) await w.stop();
});

afterAll(async () => {
  for (const w of watchers.splice(0)) await w.stop();
  await cluster?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function newDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fleet-ts-watch-'));
  dirs.push(d);
  return d;
}

/** A logger whose lines the test can read. */
function captureLog(): { log: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const log = pino(
    { level: 'info' },
    {
      write(s: string) {
        const o = JSON.parse(s) as { level: number; msg: string };
        lines.push({ level: o.level, msg: o.msg });
      },
    },
  );
  return { log, lines };
}

function watchDir(
  dir: string,
  extra: Partial<UnitDirWatcherOptions> = {},
): { watcher: UnitDirWatcher; lines: { level: number; msg: string }[] } {
  const { log, lines } = captureLog();
  const watcher = startUnitDirWatcher({
    dir,
    registry,
    log,
    debounceMs: 50,
    settleMs: 0,
    rescanIntervalMs: 1000,
    waitActive: { timeoutMs: 10_000, pollMs: 50, minHealthyMs: 200 },
    ...extra,
  });
  watchers.push(watcher);
  return { watcher, lines };
}

const running = (unit: string) => cluster.machines.some((m) => m.systemd.isRunning(unit));

/** The unit's state as the agents report it: hash and active on its machine. */
async function activeHash(unit: string): Promise<string | undefined> {
  const u = await registry.getUnit(unit);
  if (!u?.machineID) return undefined;
  const r = (await registry.listUnitStates()).find((s) => s.unit === unit && s.machineID === u.machineID);
  return r && r.agentState === 'launched' && r.systemd.active === 'active' ? r.hash : undefined;
}

async function jobVersion(unit: string): Promise<number> {
  const res = await cluster.ns.get(jobKey(unit)).exec();
  return Number(res.kvs[0]?.version ?? 0);
}

describe('watched unit directory', () => {
  it('add: a dropped unit file is submitted with its origin and runs; templates via symlinks', async () => {
    const dir = newDir();
    const { watcher } = watchDir(dir);
    await watcher.firstPass;
    writeFileSync(join(dir, 'add-a.service'), unitText('a'));
    writeFileSync(join(dir, 'add-t@.service'), unitText('t %i'));
    symlinkSync('add-t@.service', join(dir, 'add-t@1.service'));
    symlinkSync('add-t@.service', join(dir, 'add-t@2.service.loaded'));
    writeFileSync(join(dir, 'add-b.service.inactive'), unitText('b'));

    await eventually('add-a running', async () => running('add-a.service'));
    await eventually('add-t@1 running', async () => running('add-t@1.service'));
    const a = await registry.getUnit('add-a.service');
    expect(a).toMatchObject({
      origin: watcher.origin,
      desiredState: 'launched',
      hash: hashOf(unitText('a')),
    });
    expect(watcher.origin).toBe(`watch:${dir}`);
    const t2 = await eventually('add-t@2 loaded', async () => {
      const u = await registry.getUnit('add-t@2.service');
      return u?.currentState === 'loaded' ? u : undefined;
    });
    expect(t2).toMatchObject({ desiredState: 'loaded', hash: hashOf(unitText('t %i')) });
    expect(await registry.getUnit('add-b.service')).toMatchObject({ desiredState: 'inactive' });
    // The template itself is only a source for its instances.
    expect(await registry.getUnit('add-t@.service')).toBeNull();
    expect(running('add-t@2.service')).toBe(false);
  });

  it('atomic replace (write temp file + rename): replaced once, temp file never submitted', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'atom.service'), unitText('v1'));
    const { watcher } = watchDir(dir);
    await watcher.firstPass;
    await eventually('v1 active', async () => (await activeHash('atom.service')) === hashOf(unitText('v1')));

    writeFileSync(join(dir, '.atom.service.tmp'), unitText('v2'));
    renameSync(join(dir, '.atom.service.tmp'), join(dir, 'atom.service'));
    await eventually('v2 active', async () => (await activeHash('atom.service')) === hashOf(unitText('v2')));
    await watcher.rescan();
    await watcher.rescan();
    // created once, replaced once: no duplicate writes from the several fs events of the rename
    expect(await jobVersion('atom.service')).toBe(2);
    const mine = (await registry.listUnits()).filter((u) => u.origin === watcher.origin).map((u) => u.name);
    expect(mine).toEqual(['atom.service']);
  });

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

  it('delete: removing a file or link destroys its unit', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'del.service'), unitText('del'));
    writeFileSync(join(dir, 'del-t@.service'), unitText('del t'));
    symlinkSync('del-t@.service', join(dir, 'del-t@1.service'));
    const { watcher } = watchDir(dir);
    await watcher.firstPass;
    await eventually('del running', async () => running('del.service') && running('del-t@1.service'));
    unlinkSync(join(dir, 'del.service'));
    unlinkSync(join(dir, 'del-t@1.service'));
    await eventually('del gone', async () => (await registry.getUnit('del.service')) === null);
    await eventually('del-t@1 gone', async () => (await registry.getUnit('del-t@1.service')) === null);
    await eventually('del stopped', async () => !running('del.service') && !running('del-t@1.service'));
  });

  it('invalid file: one log line with file and line, the running version stays, other files unaffected', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'inv.service'), unitText('good'));
    const { watcher, lines } = watchDir(dir);
    await watcher.firstPass;
    const good = hashOf(unitText('good'));
    await eventually('good active', async () => (await activeHash('inv.service')) === good);

    writeFileSync(join(dir, 'inv.service'), '[Unit]\nDescription=oops\n[Service\nExecStart=/bin/x\n');
    writeFileSync(join(dir, 'inv-other.service'), unitText('other'));
    await eventually('other running', async () => running('inv-other.service'));
    await watcher.rescan();
    await watcher.rescan();
    expect(await activeHash('inv.service')).toBe(good);
    expect((await registry.getUnit('inv.service'))?.hash).toBe(good);
    const errs = lines.filter((l) => l.msg.startsWith('inv.service'));
    expect(errs).toHaveLength(1);
    expect(errs[0]?.msg).toMatch(/^inv\.service: line 3: .*keeps running/);

    // fixed: picked up, and the problem reported as resolved
    writeFileSync(join(dir, 'inv.service'), unitText('fixed'));
    await eventually(
      'fixed active',
      async () => (await activeHash('inv.service')) === hashOf(unitText('fixed')),
    );
    expect(lines.some((l) => /resolved: file:inv\.service/.test(l.msg))).toBe(true);
  });

  it('partial write: a file still being written is neither submitted half-done nor taken for deleted', async () => {
    const dir = newDir();
    const { watcher } = watchDir(dir, { settleMs: 800 });
    await watcher.firstPass;
    const full = unitText('partial complete');
    // The first half parses on its own ([Unit] with a Description): only settling protects it.
    writeFileSync(join(dir, 'part.service'), full.slice(0, full.indexOf('[Service]')));
    await sleep(150);
    writeFileSync(join(dir, 'part.service'), full);
    await eventually('complete running', async () => running('part.service'));
    expect((await registry.getUnit('part.service'))?.hash).toBe(hashOf(full));
    expect(await jobVersion('part.service')).toBe(1);

    // A truncated file that cannot parse holds the unit until it is complete.
    writeFileSync(join(dir, 'part2.service'), '[Serv');
    const p = await watcher.rescan();
    expect(p.plan.problems.map((x) => x.unit)).toContain('part2.service');
    expect(await registry.getUnit('part2.service')).toBeNull();
    writeFileSync(join(dir, 'part2.service'), unitText('p2'));
    await eventually('part2 running', async () => running('part2.service'));
  });

  it('editor temp and swap files are ignored', async () => {
    const dir = newDir();
    for (const f of [
      '.tmp.service.swp',
      'tmp.service~',
      '#tmp.service#',
      'tmp.service.tmp',
      '.#tmp.service',
      'notes.txt',
    ]) {
      writeFileSync(join(dir, f), unitText('scratch'));
    }
    mkdirSync(join(dir, 'sub.service'));
    const { watcher } = watchDir(dir);
    const p = await watcher.firstPass;
    expect(p.plan.actions).toEqual([]);
    expect(p.plan.problems).toEqual([]);
    expect((await registry.listUnits()).filter((u) => u.origin === watcher.origin)).toEqual([]);
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

  it('units submitted by fleetctl (or another directory) are never touched', async () => {
    const dir = newDir();
    const cliText = unitText('from fleetctl');
    await registry.createUnit({
      name: 'owned-cli.service',
      hash: hashOf(cliText),
      options: parseUnitFile(cliText),
      desiredState: 'launched',
    });
    await registry.createUnit({
      name: 'owned-other.service',
      hash: hashOf(cliText),
      options: parseUnitFile(cliText),
      desiredState: 'loaded',
      origin: 'watch:/some/other/dir',
    });
    writeFileSync(join(dir, 'owned-cli.service'), unitText('from the directory'));
    const { watcher, lines } = watchDir(dir);
    const p = await watcher.firstPass;
    expect(p.plan.actions).toEqual([]);
    expect(lines.filter((l) => l.msg.includes('owned-cli.service'))).toHaveLength(1);
    expect(lines[0]?.msg).toMatch(
      /already exists in the cluster, submitted by fleetctl or the API; leaving it alone/,
    );

    // Emptying the directory destroys nothing that is not its own.
    unlinkSync(join(dir, 'owned-cli.service'));
    await watcher.rescan();
    expect(await registry.getUnit('owned-cli.service')).toMatchObject({
      hash: hashOf(cliText),
      desiredState: 'launched',
    });
    expect(await registry.getUnit('owned-other.service')).toMatchObject({ desiredState: 'loaded' });
  });

  it('a missing directory changes nothing (it is not taken for an empty one)', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'gone-dir.service'), unitText('stays'));
    const { watcher, lines } = watchDir(dir);
    await watcher.firstPass;
    await eventually('running', async () => running('gone-dir.service'));
    rmSync(dir, { recursive: true, force: true });
    const p = await watcher.rescan();
    expect(p.error).toMatch(/cannot list: ENOENT/);
    expect(await registry.getUnit('gone-dir.service')).not.toBeNull();
    expect(lines.filter((l) => /cannot list/.test(l.msg))).toHaveLength(1);
  });

  it('fleetd hook: off when unit_watch_directory is empty, else a watcher owning watch:<dir>', async () => {
    const { log } = captureLog();
    expect(startFleetdUnitWatch({ unitWatchDirectory: '' }, cluster.ns, log)).toBeUndefined();
    const dir = newDir();
    writeFileSync(join(dir, 'fleetd-hook.service'), unitText('hook'));
    const w = startFleetdUnitWatch({ unitWatchDirectory: dir }, cluster.ns, log);
    if (!w) throw new Error('expected a watcher');
    watchers.push(w);
    // Just written: held for the settle time by the first pass, submitted by the follow-up scan.
    const u = await eventually('hook unit', () => registry.getUnit('fleetd-hook.service'));
    expect(u).toMatchObject({ origin: `watch:${dir}`, desiredState: 'launched' });
  });
});
