// The installed fleetctl loads itself with a V8 code cache (scripts/package/code-cache-loader.cjs).
// The cache may only ever make it faster: a missing, corrupt, foreign or unwritable cache still gives
// the same output and exit code, and a cache file others could have written is never used.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../../scripts/package/bundle.mjs';
import { type EtcdServer, startEtcd } from '../support/etcd.js';

const PKG = new URL('../../package.json', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(PKG, 'utf8')) as { version: string }).version;

let dir: string;
let etcd: EtcdServer;

const fleetctl = (args: string[], env: Record<string, string>) => {
  const r = spawnSync(join(dir, 'fleetctl'), args, {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const VERSION_OUT = () => ({ code: 0, stdout: `fleetctl version ${VERSION}\n`, stderr: '' });
const cacheFiles = (cache: string) =>
  existsSync(cache) ? readdirSync(cache).filter((f) => f.endsWith('.v8cache')) : [];
const freshCacheDir = (name: string) => {
  const cache = join(dir, name);
  mkdirSync(cache, { mode: 0o700 });
  return cache;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-ts-code-cache-'));
  const [ctl] = await bundle(join(dir, 'build'));
  copyFileSync(ctl as string, join(dir, 'fleetctl'));
  chmodSync(join(dir, 'fleetctl'), 0o755);
  rmSync(join(dir, 'build'), { recursive: true });
  etcd = await startEtcd();
}, 120_000);

afterAll(async () => {
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fleetctl code cache', () => {
  it('is written by the first run and used, not rewritten, by the next', () => {
    const cache = freshCacheDir('warm');
    const env = { FLEET_TS_CODE_CACHE_DIR: cache };
    expect(fleetctl(['version'], env)).toEqual(VERSION_OUT());
    const [file, ...more] = cacheFiles(cache);
    expect(more).toEqual([]);
    const path = join(cache, file ?? '');
    const written = statSync(path);
    expect(written.size).toBeGreaterThan(10_000);
    expect(written.mode & 0o777).toBe(0o644);
    expect(fleetctl(['version'], env)).toEqual(VERSION_OUT());
    expect(statSync(path).mtimeMs).toBe(written.mtimeMs);
  });

  it('replaces a corrupt cache file and still runs', () => {
    const cache = freshCacheDir('corrupt');
    const env = { FLEET_TS_CODE_CACHE_DIR: cache };
    fleetctl(['version'], env);
    const path = join(cache, cacheFiles(cache)[0] ?? '');
    const garbage = Buffer.alloc(statSync(path).size, 0x5a);
    writeFileSync(path, garbage);
    expect(fleetctl(['version'], env)).toEqual(VERSION_OUT());
    expect(readFileSync(path).equals(garbage)).toBe(false);
  });

  it('never loads a cache file that others could have written', () => {
    const cache = freshCacheDir('shared');
    const env = { FLEET_TS_CODE_CACHE_DIR: cache };
    fleetctl(['version'], env);
    const path = join(cache, cacheFiles(cache)[0] ?? '');
    chmodSync(path, 0o666);
    expect(fleetctl(['version'], env)).toEqual(VERSION_OUT());
    // Not used, so replaced by a fresh one with safe permissions.
    expect(statSync(path).mode & 0o777).toBe(0o644);
  });

  it('removes caches of other builds when it writes its own', () => {
    const cache = freshCacheDir('stale');
    const stale = join(cache, `fleetctl-0000000000000000-${process.version}-${process.arch}.v8cache`);
    writeFileSync(stale, 'old build', { mode: 0o644 });
    expect(fleetctl(['version'], { FLEET_TS_CODE_CACHE_DIR: cache })).toEqual(VERSION_OUT());
    expect(existsSync(stale)).toBe(false);
    expect(cacheFiles(cache)).toHaveLength(1);
  });

  it('runs normally when the cache directory cannot be created, or when turned off', () => {
    writeFileSync(join(dir, 'not-a-dir'), '');
    expect(fleetctl(['version'], { FLEET_TS_CODE_CACHE_DIR: join(dir, 'not-a-dir', 'cache') })).toEqual(
      VERSION_OUT(),
    );
    const cache = freshCacheDir('off');
    expect(fleetctl(['version'], { FLEET_TS_CODE_CACHE_DIR: cache, FLEET_TS_CODE_CACHE: '0' })).toEqual(
      VERSION_OUT(),
    );
    expect(cacheFiles(cache)).toEqual([]);
  });

  it('runs etcd commands the same from a cache written by another command', () => {
    const cache = freshCacheDir('etcd');
    const env = { FLEET_TS_CODE_CACHE_DIR: cache };
    const args = ['--driver=etcd', `--endpoint=${etcd.endpoint}`, 'list-unit-files'];
    const cold = fleetctl(args, { ...env, FLEET_TS_CODE_CACHE: '0' });
    expect(cold).toEqual({ code: 0, stdout: 'UNIT\tHASH\tDSTATE\tSTATE\tTARGET\n', stderr: '' });
    fleetctl(['version'], env);
    expect(cacheFiles(cache)).toHaveLength(1);
    expect(fleetctl(args, env)).toEqual(cold);
    expect(fleetctl(['--driver=etcd', `--endpoint=${etcd.endpoint}`, 'list-machines'], env)).toEqual({
      code: 0,
      stdout: 'MACHINE\tIP\tMETADATA\n',
      stderr: '',
    });
  });
});
