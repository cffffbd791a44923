// Watched unit directory against a real etcd, the real engine and agents (in-memory systemd): files
// dropped, replaced, broken, ignored and removed in a directory, and the cluster following them.
import { mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startFleetdUnitWatch } from '../../cli/watch/fleetd.js';
import { parseUnitFile } from '../../units/parse.js';
import { eventually } from './cli-helpers.js';
import {
  activeHash,
  captureLog,
  cluster,
  hashOf,
  jobVersion,
  newDir,
  registry,
  running,
  unitText,
  useWatchDirCluster,
  watchDir,
  watchers,
} from './watch-dir-helpers.js';

useWatchDirCluster();

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
