// Reads a watched directory into plain DirEntry values for the planner (./plan.ts). Symlinks are
// followed for their contents (systemd's `foo@1.service -> foo@.service` instances); sub-directories
// are skipped. A missing or unreadable directory is an error, never "empty": treating it as empty
// would destroy every unit it ever submitted (an unmounted volume must not stop the cluster's units).
import type { Dirent } from 'node:fs';
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../units/common.js';
import type { DirEntry } from './plan.js';

/** Largest unit file read; anything bigger is reported instead of loaded into memory. */
export const MAX_UNIT_FILE_BYTES = 1024 * 1024;

export class UnitDirError extends Error {
  constructor(
    readonly dir: string,
    detail: string,
  ) {
    super(`unit directory ${dir}: ${detail}`);
    this.name = 'UnitDirError';
  }
}

const code = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? errorMessage(err);

/**
 * Lists `dir`. Files modified less than `settleMs` before `now` are marked inFlight: a writer may still
 * be busy with them (the next scan picks them up).
 */
export async function readUnitDir(
  dir: string,
  opts: { settleMs?: number; now?: number } = {},
): Promise<DirEntry[]> {
  const settleMs = opts.settleMs ?? 0;
  const now = opts.now ?? Date.now();
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new UnitDirError(dir, `cannot list: ${code(err)}`);
  }
  const entries: DirEntry[] = [];
  for (const d of dirents) {
    if (!d.isFile() && !d.isSymbolicLink()) continue;
    const path = join(dir, d.name);
    let linkTarget: string | undefined;
    if (d.isSymbolicLink()) {
      try {
        linkTarget = await readlink(path);
      } catch (err) {
        // Gone between readdir and readlink: the next scan sees the directory as it is then.
        if (code(err) === 'ENOENT') continue;
        entries.push({ file: d.name, readError: code(err) });
        continue;
      }
    }
    const base = { file: d.name, ...(linkTarget !== undefined ? { linkTarget } : {}) };
    try {
      const st = await stat(path);
      if (st.isDirectory()) continue;
      if (!st.isFile()) {
        entries.push({ ...base, readError: 'not a regular file' });
        continue;
      }
      if (st.size > MAX_UNIT_FILE_BYTES) {
        entries.push({ ...base, readError: `file too large (${st.size} bytes)` });
        continue;
      }
      const inFlight = settleMs > 0 && now - st.mtimeMs < settleMs;
      const text = await readFile(path, 'utf8');
      entries.push({ ...base, text, ...(inFlight ? { inFlight: true } : {}) });
    } catch (err) {
      const c = code(err);
      if (c === 'ENOENT' && linkTarget === undefined) continue; // deleted meanwhile
      entries.push({ ...base, readError: c === 'ENOENT' ? 'ENOENT (link target missing)' : c });
    }
  }
  return entries;
}
