import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  contentHash,
  FULL_LIST_EVERY_MS,
  UnitFileStore,
  UnsafeUnitNameError,
} from '../../agent/unit-files.js';

let root: string;
let unitsDir: string;
let systemdDir: string;
let store: UnitFileStore;

/** Every path under root, to prove that nothing outside the two dirs was touched. */
async function tree(dir = root, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const rel = `${prefix}${e.name}`;
    out.push(rel);
    if (e.isDirectory()) out.push(...(await tree(join(dir, e.name), `${rel}/`)));
  }
  return out;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'fleet-ts-unitfiles-'));
  unitsDir = join(root, 'run/fleet/units');
  systemdDir = join(root, 'run/systemd/system');
  await mkdir(join(root, 'run/systemd'), { recursive: true });
  await writeFile(join(root, 'run/x'), 'precious');
  store = new UnitFileStore({ unitsDir, systemdDir });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('UnitFileStore', () => {
  it('write creates the file atomically with mode 0644 and list reports its content hash', async () => {
    const text = '[Service]\nExecStart=/bin/true\n';
    await store.write('hello.service', text);
    expect(await readFile(join(unitsDir, 'hello.service'), 'utf8')).toBe(text);
    expect((await stat(join(unitsDir, 'hello.service'))).mode & 0o777).toBe(0o644);
    expect(await store.list()).toEqual([{ name: 'hello.service', hash: contentHash(text) }]);
    expect(await readdir(unitsDir)).toEqual(['hello.service']); // no temp file left behind
  });

  it('write replaces existing contents', async () => {
    await store.write('a.service', 'one\n');
    await store.write('a.service', 'two\n');
    expect(await store.read('a.service')).toBe('two\n');
  });

  it('list ignores files of unrecognized types and returns sorted names', async () => {
    await store.write('b.socket', 'x');
    await store.write('a.timer', 'y');
    await writeFile(join(unitsDir, 'notes.txt'), 'z');
    await writeFile(join(unitsDir, 'foo.target'), 'z');
    expect((await store.list()).map((f) => f.name)).toEqual(['a.timer', 'b.socket']);
  });

  it('list of a missing directory is empty', async () => {
    expect(await store.list()).toEqual([]);
  });

  it('list sees files others add, remove or rename at once, and a file edited in place within 30 s', async () => {
    await store.write('a.service', 'one');
    const listed = async () => (await store.list()).map((f) => `${f.name} ${f.hash.slice(0, 6)}`);
    expect(await listed()).toEqual([`a.service ${contentHash('one').slice(0, 6)}`]);
    await writeFile(join(unitsDir, 'b.service'), 'two');
    expect(await listed()).toEqual([
      `a.service ${contentHash('one').slice(0, 6)}`,
      `b.service ${contentHash('two').slice(0, 6)}`,
    ]);
    await rm(join(unitsDir, 'a.service'));
    expect(await listed()).toEqual([`b.service ${contentHash('two').slice(0, 6)}`]);

    // Same directory, same entries: the last listing stands until FULL_LIST_EVERY_MS has passed.
    await writeFile(join(unitsDir, 'b.service'), 'edited');
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now');
    try {
      clock.mockReturnValue(now + 1000);
      expect(await listed()).toEqual([`b.service ${contentHash('two').slice(0, 6)}`]);
      clock.mockReturnValue(now + FULL_LIST_EVERY_MS + 1000);
      expect(await listed()).toEqual([`b.service ${contentHash('edited').slice(0, 6)}`]);
    } finally {
      clock.mockRestore();
    }
    // Its own writes are listed at once.
    await store.write('b.service', 'rewritten');
    expect(await listed()).toEqual([`b.service ${contentHash('rewritten').slice(0, 6)}`]);
  });

  it('link symlinks the unit into the systemd dir and remove deletes both', async () => {
    await store.write('a.service', 'x');
    await store.link('a.service');
    expect(await readlink(join(systemdDir, 'a.service'))).toBe(join(unitsDir, 'a.service'));
    expect(await store.listLinks()).toEqual(['a.service']);
    await store.link('a.service'); // idempotent: replaces its own link
    await store.remove('a.service');
    expect(await readdir(unitsDir)).toEqual([]);
    expect(await readdir(systemdDir)).toEqual([]);
  });

  it('write and link recreate their directories when someone removed them (e.g. /run wiped)', async () => {
    await store.write('a.service', 'one\n');
    await store.link('a.service');
    await rm(join(root, 'run/fleet'), { recursive: true });
    await rm(systemdDir, { recursive: true });
    await store.write('b.service', 'two\n');
    await store.link('b.service');
    expect(await readFile(join(unitsDir, 'b.service'), 'utf8')).toBe('two\n');
    expect((await stat(unitsDir)).mode & 0o777).toBe(0o755);
    expect(await readlink(join(systemdDir, 'b.service'))).toBe(join(unitsDir, 'b.service'));
    expect(await readdir(systemdDir)).toEqual(['b.service']); // no temp link left behind
  });

  it('link refuses to replace an admin-owned file or a link pointing elsewhere', async () => {
    await store.write('a.service', 'x');
    await store.write('b.service', 'x');
    await mkdir(systemdDir, { recursive: true });
    await writeFile(join(systemdDir, 'a.service'), 'admin unit');
    await symlink(join(root, 'run/x'), join(systemdDir, 'b.service'));
    await expect(store.link('a.service')).rejects.toThrow(/not a link into/);
    await expect(store.link('b.service')).rejects.toThrow(/not a link into/);
    expect(await readFile(join(systemdDir, 'a.service'), 'utf8')).toBe('admin unit');
    // remove leaves foreign entries in the systemd dir alone
    await store.remove('a.service');
    await store.remove('b.service');
    expect(await readFile(join(systemdDir, 'a.service'), 'utf8')).toBe('admin unit');
    expect((await lstat(join(systemdDir, 'b.service'))).isSymbolicLink()).toBe(true);
    expect(await readFile(join(root, 'run/x'), 'utf8')).toBe('precious');
  });

  it('remove of an absent unit is a no-op', async () => {
    await expect(store.remove('nothing.service')).resolves.toBeUndefined();
  });

  const hostile = [
    '../x.service',
    '../../x',
    '..',
    '.',
    'a/b.service',
    '/etc/passwd',
    'x/../../y.service',
    '',
    'a\0.service',
    'foo.target',
    'noext',
  ];
  for (const name of hostile) {
    it(`never touches the filesystem for the name ${JSON.stringify(name)}`, async () => {
      const before = await tree();
      await expect(store.write(name, 'evil')).rejects.toBeInstanceOf(UnsafeUnitNameError);
      await expect(store.link(name)).rejects.toBeInstanceOf(UnsafeUnitNameError);
      await expect(store.remove(name)).rejects.toBeInstanceOf(UnsafeUnitNameError);
      await expect(store.read(name)).rejects.toBeInstanceOf(UnsafeUnitNameError);
      expect(await tree()).toEqual(before);
      expect(await readFile(join(root, 'run/x'), 'utf8')).toBe('precious');
    });
  }

  it('the error message names the refused unit in one line', async () => {
    const err = await store.write('../x.service', 'evil').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeUnitNameError);
    expect((err as Error).message).toMatch(/^refusing unit name "\.\.\/x\.service": .+$/);
  });
});
