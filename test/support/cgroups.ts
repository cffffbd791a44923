// A cgroup of its own for each nspawn machine on a host without systemd as PID 1 (machines started
// from one cgroup would share and kill each other's services). Why: docs/testing.md.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CgroupHierarchies {
  /** Mount points a machine's cgroup is created in (named systemd v1 first, then cgroup2). */
  readonly roots: readonly string[];
  /** Mounts this module made itself; `release()` unmounts them. */
  readonly ownMounts: readonly string[];
}

interface MountEntry {
  readonly mountPoint: string;
  readonly fsType: string;
  readonly superOptions: string;
  readonly root: string;
}

function readMounts(): MountEntry[] {
  // mountinfo: id parent maj:min root mountpoint opts [optional...] - fstype source superopts
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [left = '', right = ''] = l.split(' - ');
      const f = left.split(' ');
      const r = right.split(' ');
      return { root: f[3] ?? '', mountPoint: f[4] ?? '', fsType: r[0] ?? '', superOptions: r[2] ?? '' };
    });
}

/** Finds (or mounts) the hierarchies every machine needs a cgroup in. */
export function findCgroupHierarchies(): CgroupHierarchies {
  const mounts = readMounts();
  const roots: string[] = [];
  const ownMounts: string[] = [];
  const named = mounts.find(
    (m) => m.fsType === 'cgroup' && m.superOptions.split(',').includes('name=systemd'),
  );
  if (named) roots.push(named.mountPoint);
  const v2 = mounts.find((m) => m.fsType === 'cgroup2');
  if (v2) {
    roots.push(v2.mountPoint);
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-ts-cgroup2-'));
    execFileSync('mount', ['-t', 'cgroup2', 'none', dir], { stdio: 'pipe' });
    roots.push(dir);
    ownMounts.push(dir);
  }
  return { roots, ownMounts };
}

/** Creates `<root>/<relPath>` in every hierarchy; returns the absolute dirs. */
export function createCgroup(h: CgroupHierarchies, relPath: string): string[] {
  return h.roots.map((root) => {
    const dir = join(root, relPath);
    mkdirSync(dir, { recursive: true });
    return dir;
  });
}

/** PIDs (never 0: PIDs a namespace cannot see) in a cgroup dir and everything below it. */
export function cgroupPids(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const pids: number[] = [];
  const walk = (d: string) => {
    try {
      for (const l of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) {
        const p = Number.parseInt(l, 10);
        if (Number.isInteger(p) && p > 1) pids.push(p);
      }
      for (const e of readdirSync(d)) {
        const sub = join(d, e);
        if (statSync(sub).isDirectory()) walk(sub);
      }
    } catch {
      // raced with removal
    }
  };
  walk(dir);
  return pids;
}

/** Removes a cgroup tree bottom-up; returns false if some directory is still busy. */
export function removeCgroupTree(dir: string): boolean {
  if (!existsSync(dir)) return true;
  let ok = true;
  try {
    for (const e of readdirSync(dir)) {
      const sub = join(dir, e);
      try {
        if (statSync(sub).isDirectory()) ok = removeCgroupTree(sub) && ok;
      } catch {
        // vanished
      }
    }
    rmdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') ok = false;
  }
  return ok;
}

/** Unmounts what findCgroupHierarchies mounted. */
export function releaseHierarchies(h: CgroupHierarchies): void {
  for (const m of h.ownMounts) {
    try {
      execFileSync('umount', [m], { stdio: 'pipe' });
      rmdirSync(m);
    } catch {
      // best effort; reported by the caller's leftover check
    }
  }
}
