// The only code of fleet-ts that touches the filesystem for units. Unit files live in the units
// directory (default /run/fleet/units) and are symlinked into systemd's runtime directory
// (default /run/systemd/system). Whatever the registry holds, nothing is ever written, linked or
// deleted outside these two directories: every method validates the name again and checks that the
// resolved path is a direct child of its directory.
import { createHash, randomBytes } from 'node:crypto';
import {
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Logger } from '../units/log.js';
import { validateUnitName } from '../units/names.js';

export const DEFAULT_UNITS_DIR = '/run/fleet/units';
export const DEFAULT_SYSTEMD_DIR = '/run/systemd/system';

/** Unit types the agent manages (fleet systemd/manager.go); other files in the directory are ignored. */
export const AGENT_UNIT_TYPES: readonly string[] = [
  'service',
  'socket',
  'timer',
  'path',
  'device',
  'mount',
  'automount',
];

/** Thrown before any filesystem access for a name that is invalid or would escape the directories. */
export class UnsafeUnitNameError extends Error {
  constructor(
    readonly unit: string,
    why: string,
  ) {
    super(`refusing unit name ${JSON.stringify(unit)}: ${why}`);
    this.name = 'UnsafeUnitNameError';
  }
}

export interface LocalUnitFile {
  readonly name: string;
  /** sha1 hex of the file contents (= the registry hash, since the agent writes the serialized text). */
  readonly hash: string;
}

export interface UnitFileStoreOptions {
  readonly unitsDir?: string;
  readonly systemdDir?: string;
  readonly log?: Logger;
}

export const contentHash = (text: string): string => createHash('sha1').update(text).digest('hex');

/**
 * How long list() may answer from its last listing while the directory itself is unchanged (same
 * inode and mtime: no file added, removed or renamed). A file edited in place is seen within this.
 */
export const FULL_LIST_EVERY_MS = 30_000;

interface Listing {
  readonly dirIno: bigint;
  readonly dirMtimeNs: bigint;
  readonly at: number;
  readonly files: readonly LocalUnitFile[];
}

function unitType(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1);
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

export class UnitFileStore {
  readonly unitsDir: string;
  readonly systemdDir: string;
  private readonly log: Logger | undefined;
  private readonly hashes = new Map<string, { ino: number; size: number; mtimeMs: number; hash: string }>();
  private listing: Listing | undefined;

  constructor(opts: UnitFileStoreOptions = {}) {
    this.unitsDir = resolve(opts.unitsDir ?? DEFAULT_UNITS_DIR);
    this.systemdDir = resolve(opts.systemdDir ?? DEFAULT_SYSTEMD_DIR);
    this.log = opts.log;
  }

  /** Validates the name and returns its path inside `dir`; throws UnsafeUnitNameError otherwise. */
  private pathIn(dir: string, name: string): string {
    const invalid = validateUnitName(name);
    if (invalid !== null) throw new UnsafeUnitNameError(name, invalid);
    if (!AGENT_UNIT_TYPES.includes(unitType(name))) {
      throw new UnsafeUnitNameError(name, `unit type "${unitType(name)}" is not managed by the agent`);
    }
    const p = resolve(dir, name);
    // Belt and braces: validateUnitName rejects '/' and '..', and this holds whatever it accepts.
    if (dirname(p) !== dir || basename(p) !== name || name === '.' || name === '..') {
      throw new UnsafeUnitNameError(name, `path would leave ${dir}`);
    }
    return p;
  }

  /** Path of the unit file in the units directory (validated). */
  unitPath(name: string): string {
    return this.pathIn(this.unitsDir, name);
  }

  /**
   * Unit files in the units directory with a recognized type and a valid name, sorted by name. The
   * agent asks on every reconcile (at least every 5 s); while the directory is unchanged the last
   * listing is the answer for up to FULL_LIST_EVERY_MS, instead of one lstat per file each time.
   */
  async list(): Promise<LocalUnitFile[]> {
    let dir: { ino: bigint; mtimeNs: bigint };
    try {
      dir = await stat(this.unitsDir, { bigint: true });
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw err;
    }
    const last = this.listing;
    if (
      last &&
      last.dirIno === dir.ino &&
      last.dirMtimeNs === dir.mtimeNs &&
      Date.now() - last.at < FULL_LIST_EVERY_MS
    )
      return [...last.files];
    // Stat before reading: a change made while this listing runs moves the mtime past the one kept.
    const files = await this.listNow();
    this.listing = { dirIno: dir.ino, dirMtimeNs: dir.mtimeNs, at: Date.now(), files };
    return [...files];
  }

  private async listNow(): Promise<LocalUnitFile[]> {
    let entries: string[];
    try {
      entries = await readdir(this.unitsDir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw err;
    }
    const out: LocalUnitFile[] = [];
    for (const entry of entries.sort()) {
      if (entry.startsWith('.') && entry.includes('.tmp-')) continue; // our own half-written temp file
      if (!AGENT_UNIT_TYPES.includes(unitType(entry)) || validateUnitName(entry) !== null) {
        this.log?.info(
          { file: join(this.unitsDir, entry) },
          `Found unrecognized file in ${this.unitsDir}, ignoring`,
        );
        continue;
      }
      const hash = await this.hashOf(entry);
      if (hash !== null) out.push({ name: entry, hash });
    }
    return out;
  }

  /**
   * sha1 of a unit file, re-read only when its inode, size or mtime changed: the agent lists its
   * directory on every reconcile, and re-hashing every file each time made that quadratic.
   */
  private async hashOf(name: string): Promise<string | null> {
    const p = this.pathIn(this.unitsDir, name);
    try {
      const st = await lstat(p);
      if (!st.isFile()) return null;
      const cached = this.hashes.get(name);
      if (cached && cached.ino === st.ino && cached.size === st.size && cached.mtimeMs === st.mtimeMs)
        return cached.hash;
      const hash = contentHash(await readFile(p, 'utf8'));
      this.hashes.set(name, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, hash });
      return hash;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw err;
    }
  }

  /** Contents of a unit file, null when absent (or not a regular file). */
  async read(name: string): Promise<string | null> {
    const p = this.pathIn(this.unitsDir, name);
    try {
      const st = await lstat(p);
      if (!st.isFile()) return null;
      return await readFile(p, 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw err;
    }
  }

  /** Writes the unit file atomically (temp file + rename) with mode 0644. */
  async write(name: string, text: string): Promise<void> {
    const p = this.pathIn(this.unitsDir, name);
    this.listing = undefined; // also where directory mtimes are too coarse to show this change
    const tmp = join(this.unitsDir, `.${name}.tmp-${randomBytes(4).toString('hex')}`);
    try {
      await inDirectory(this.unitsDir, () => writeFile(tmp, text, { mode: 0o644, flag: 'wx' }));
      await rename(tmp, p);
      this.listing = undefined;
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** True when `linkPath` is a symlink whose target is a direct child of the units directory. */
  private async linksIntoUnitsDir(linkPath: string): Promise<boolean> {
    const target = await readlink(linkPath);
    return dirname(resolve(this.systemdDir, target)) === this.unitsDir;
  }

  /**
   * Symlinks systemdDir/name → unitsDir/name. An existing symlink into the units directory is
   * replaced; anything else there (an admin's own unit file, a link elsewhere) is left alone and an
   * error is thrown.
   */
  async link(name: string): Promise<void> {
    const source = this.pathIn(this.unitsDir, name);
    const linkPath = this.pathIn(this.systemdDir, name);
    try {
      const st = await lstat(linkPath);
      if (!st.isSymbolicLink() || !(await this.linksIntoUnitsDir(linkPath))) {
        throw new Error(`refusing to replace ${linkPath}: it is not a link into ${this.unitsDir}`);
      }
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    const tmp = join(this.systemdDir, `.${name}.tmp-${randomBytes(4).toString('hex')}`);
    await inDirectory(this.systemdDir, () => symlink(source, tmp));
    try {
      await rename(tmp, linkPath);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** Removes the symlink (only if it points into the units directory) and the unit file. */
  async remove(name: string): Promise<void> {
    const file = this.pathIn(this.unitsDir, name);
    this.listing = undefined;
    const linkPath = this.pathIn(this.systemdDir, name);
    try {
      const st = await lstat(linkPath);
      if (st.isSymbolicLink() && (await this.linksIntoUnitsDir(linkPath))) await unlink(linkPath);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    try {
      await unlink(file);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
  }

  /** Names linked from the systemd directory into the units directory (to find leftovers). */
  async listLinks(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.systemdDir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw err;
    }
    const out: string[] = [];
    for (const entry of entries.sort()) {
      if (!AGENT_UNIT_TYPES.includes(unitType(entry)) || validateUnitName(entry) !== null) continue;
      const p = join(this.systemdDir, entry);
      try {
        const st = await lstat(p);
        if (st.isSymbolicLink() && (await this.linksIntoUnitsDir(p))) out.push(entry);
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
    return out;
  }
}

/**
 * Runs `create` (which makes an entry in `dir`), creating `dir` first only when it is missing: one
 * mkdir before every file was two of the nine file system calls a new unit cost the agent.
 */
async function inDirectory<T>(dir: string, create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
    await mkdir(dir, { recursive: true, mode: 0o755 });
    return create();
  }
}
