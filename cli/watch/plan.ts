// Watched unit directory, pure part: what the files of a directory say (classifyDir) and what must
// change in the registry so the cluster matches them (planSync). No I/O: the shell (./scan.ts,
// ./execute.ts, ./watcher.ts) reads the directory and carries the plan out.
// Design notes: docs/architecture.md, "cli/watch/plan.ts".

import { compareStrings as cmp, errorMessage } from '../../units/common.js';
import { parseUnitName, validateUnitName } from '../../units/names.js';
import { UnitParseError } from '../../units/parse.js';
import { unitHash } from '../../units/serialize.js';
import type { DesiredState, UnitOption, UnitSpec } from '../../units/types.js';
import { checkUnitFile } from '../../units/unit-file-check.js';

/** One directory entry as the shell read it (symlinks followed for `text`). */
export interface DirEntry {
  /** File name inside the directory (no slashes). */
  readonly file: string;
  /** Contents (through the symlink, for a link); absent when `readError` is set. */
  readonly text?: string;
  /** Why the contents could not be read (e.g. `ENOENT: link target missing`, `EACCES`). */
  readonly readError?: string;
  /** Target as written, when the entry is a symbolic link. */
  readonly linkTarget?: string;
  /** Modified so recently that a writer may still be busy: used on the next scan. */
  readonly inFlight?: boolean;
}

/** A usable unit file. */
export interface UnitFileVerdict {
  readonly kind: 'unit';
  readonly file: string;
  readonly unit: string;
  readonly desiredState: DesiredState;
  readonly options: readonly UnitOption[];
  readonly hash: string;
}

/** A file whose unit must be left as it is in the cluster (docs/architecture.md, "cli/watch/plan.ts"). */
export interface HoldVerdict {
  readonly kind: 'hold';
  readonly file: string;
  readonly unit: string;
  /** One line: what is wrong, naming the file (and the line, for parse errors). */
  readonly error: string;
  /** 1-based line of a parse error, when known. */
  readonly line?: number;
  /** true when the file is merely still being written (not worth an error log line). */
  readonly pending?: boolean;
}

export interface TemplateVerdict {
  readonly kind: 'template';
  readonly file: string;
  readonly unit: string;
}

export interface IgnoredVerdict {
  readonly kind: 'ignored';
  readonly file: string;
  readonly why: string;
}

export type FileVerdict = UnitFileVerdict | HoldVerdict | TemplateVerdict | IgnoredVerdict;

const STATE_SUFFIXES: Readonly<Record<string, DesiredState>> = {
  '.loaded': 'loaded',
  '.inactive': 'inactive',
};

const SCRATCH_PATTERNS: readonly RegExp[] = [
  /^\./, // dotfiles, emacs `.#x` locks, vim `.x.swp`, our own writers' `.x.tmp`
  /^#.*#$/, // emacs autosave
  /~$/, // backups
  /\.(tmp|swp|swx|swo|bak|orig|rej|part)$/i,
  /\.dpkg-[a-z]+$/,
  /\.rpm(new|save|orig)$/,
];

/** Unit name and desired state a file name stands for, or why the file is not a unit file. */
export function unitOfFileName(
  file: string,
): { unit: string; desiredState: DesiredState } | { ignored: string } {
  if (file.includes('/') || file === '' || file === '.' || file === '..')
    return { ignored: 'not a file name' };
  if (SCRATCH_PATTERNS.some((re) => re.test(file))) return { ignored: 'editor or temporary file' };
  let unit = file;
  let desiredState: DesiredState = 'launched';
  for (const [suffix, state] of Object.entries(STATE_SUFFIXES)) {
    if (file.endsWith(suffix)) {
      unit = file.slice(0, -suffix.length);
      desiredState = state;
      break;
    }
  }
  const bad = validateUnitName(unit);
  if (bad) return { ignored: `not a unit name: ${bad}` };
  return { unit, desiredState };
}

function describe(entry: DirEntry): string {
  return entry.linkTarget !== undefined ? `${entry.file} -> ${entry.linkTarget}` : entry.file;
}

/** Classifies every entry; the result is sorted by file name. */
export function classifyDir(entries: readonly DirEntry[]): FileVerdict[] {
  const verdicts: FileVerdict[] = [];
  for (const entry of [...entries].sort((a, b) => cmp(a.file, b.file))) {
    verdicts.push(classifyEntry(entry));
  }
  // Two files for one unit (e.g. `a.service` and `a.service.loaded`): neither wins, both hold.
  const byUnit = new Map<string, FileVerdict[]>();
  for (const v of verdicts) {
    if (v.kind !== 'unit' && v.kind !== 'hold') continue;
    const list = byUnit.get(v.unit) ?? [];
    list.push(v);
    byUnit.set(v.unit, list);
  }
  return verdicts.map((v) => {
    if (v.kind !== 'unit' && v.kind !== 'hold') return v;
    const same = byUnit.get(v.unit) ?? [];
    if (same.length < 2) return v;
    const files = same.map((s) => s.file).join(', ');
    return {
      kind: 'hold',
      file: v.file,
      unit: v.unit,
      error: `${v.file}: unit ${v.unit} is named by more than one file (${files}); keep only one`,
    };
  });
}

function classifyEntry(entry: DirEntry): FileVerdict {
  const named = unitOfFileName(entry.file);
  if ('ignored' in named) return { kind: 'ignored', file: entry.file, why: named.ignored };
  const { unit, desiredState } = named;
  const info = parseUnitName(unit);
  if (info.isTemplate) {
    // A template only feeds its instances; a state suffix on it means nothing, so such a file is
    // ignored (with the reason) rather than guessed at.
    if (entry.file !== unit) {
      return { kind: 'ignored', file: entry.file, why: 'a template has no desired state' };
    }
    return { kind: 'template', file: entry.file, unit };
  }
  const hold = (error: string, extra: { line?: number; pending?: boolean } = {}): HoldVerdict => ({
    kind: 'hold',
    file: entry.file,
    unit,
    error,
    ...extra,
  });
  if (entry.inFlight) return hold(`${describe(entry)}: still being written`, { pending: true });
  if (entry.readError !== undefined || entry.text === undefined) {
    return hold(`${describe(entry)}: cannot read: ${entry.readError ?? 'no contents'}`);
  }
  let options: UnitOption[];
  try {
    // Parse and [X-Fleet] problems alike are held with the line they are on.
    options = checkUnitFile(entry.text);
  } catch (err) {
    if (err instanceof UnitParseError) {
      return hold(`${describe(entry)}: line ${err.line}: ${err.detail}`, { line: err.line });
    }
    return hold(`${describe(entry)}: cannot parse: ${errorMessage(err)}`);
  }
  if (options.length === 0) return hold(`${describe(entry)}: no options (empty unit file)`);
  return { kind: 'unit', file: entry.file, unit, desiredState, options, hash: unitHash(options) };
}

/** What the planner needs to know about a unit in the registry. */
export interface RegistryUnit {
  readonly name: string;
  readonly hash: string;
  readonly desiredState: DesiredState;
  readonly origin?: string;
}

export type StateVerb = 'start' | 'load' | 'stop' | 'unload';

export type WatchAction =
  | {
      readonly kind: 'submit';
      readonly unit: string;
      readonly spec: UnitSpec;
      readonly reason: string;
    }
  | {
      readonly kind: 'replace';
      readonly unit: string;
      readonly spec: UnitSpec;
      readonly previousHash: string;
      readonly reason: string;
      /**
       * Set for launched instances of a template: these are replaced one at a time, each waiting
       * until it is active again. `updatedPeers` are instances already on the new contents (a roll
       * that was interrupted), which must be active before the roll continues.
       */
      readonly rolling?: { readonly template: string; readonly updatedPeers: readonly string[] };
    }
  | {
      readonly kind: 'set-state';
      readonly unit: string;
      readonly from: DesiredState;
      readonly to: DesiredState;
      readonly verb: StateVerb;
      readonly reason: string;
    }
  | { readonly kind: 'destroy'; readonly unit: string; readonly reason: string };

/** A unit the directory names but may not touch, or a file that holds its unit. */
export interface SyncProblem {
  readonly file: string;
  readonly unit: string;
  readonly message: string;
  /** Still being written: retried shortly, not an error. */
  readonly pending?: boolean;
}

export interface SyncPlan {
  /** In execution order: destroy, submit, set-state, replace, then rolling replaces per template. */
  readonly actions: readonly WatchAction[];
  readonly problems: readonly SyncProblem[];
}

export function stateVerb(from: DesiredState, to: DesiredState): StateVerb {
  if (to === 'launched') return 'start';
  if (to === 'inactive') return 'unload';
  return from === 'launched' ? 'stop' : 'load';
}

/**
 * The actions that make the registry's units of `origin` match the directory. Units of any other
 * origin (fleetctl, API, another directory) are never acted on; a file naming such a unit is a problem.
 */
export function planSync(
  verdicts: readonly FileVerdict[],
  registry: readonly RegistryUnit[],
  origin: string,
): SyncPlan {
  const existing = new Map(registry.map((u) => [u.name, u]));
  const named = new Set<string>();
  const problems: SyncProblem[] = [];
  const destroys: WatchAction[] = [];
  const submits: WatchAction[] = [];
  const states: WatchAction[] = [];
  const replaces: WatchAction[] = [];
  const rolling: Extract<WatchAction, { kind: 'replace' }>[] = [];

  for (const v of verdicts) {
    if (v.kind === 'hold') {
      named.add(v.unit);
      problems.push({
        file: v.file,
        unit: v.unit,
        message: v.pending ? v.error : `${v.error}; ${keepsMessage(existing.get(v.unit), origin)}`,
        ...(v.pending ? { pending: true } : {}),
      });
      continue;
    }
    if (v.kind !== 'unit') continue;
    named.add(v.unit);
    const spec: UnitSpec = {
      name: v.unit,
      hash: v.hash,
      options: v.options,
      desiredState: v.desiredState,
      origin,
    };
    const current = existing.get(v.unit);
    if (!current) {
      submits.push({ kind: 'submit', unit: v.unit, spec, reason: `new file ${v.file}` });
      continue;
    }
    if (current.origin !== origin) {
      problems.push({
        file: v.file,
        unit: v.unit,
        message: `${v.file}: unit ${v.unit} already exists in the cluster, submitted by ${ownerOf(current)}; leaving it alone`,
      });
      continue;
    }
    if (current.hash !== v.hash) {
      const info = parseUnitName(v.unit);
      const action = {
        kind: 'replace' as const,
        unit: v.unit,
        spec,
        previousHash: current.hash,
        reason: `${v.file} changed`,
      };
      if (info.isInstance && info.template && v.desiredState === 'launched') {
        const updatedPeers = registry
          .filter(
            (u) =>
              u.origin === origin &&
              u.name !== v.unit &&
              u.hash === v.hash &&
              u.desiredState === 'launched' &&
              parseUnitName(u.name).template === info.template,
          )
          .map((u) => u.name)
          .sort(cmp);
        rolling.push({ ...action, rolling: { template: info.template, updatedPeers } });
      } else {
        replaces.push(action);
      }
      continue;
    }
    if (current.desiredState !== v.desiredState) {
      states.push({
        kind: 'set-state',
        unit: v.unit,
        from: current.desiredState,
        to: v.desiredState,
        verb: stateVerb(current.desiredState, v.desiredState),
        reason: `${v.file} asks for ${v.desiredState}`,
      });
    }
  }

  for (const u of registry) {
    if (u.origin !== origin || named.has(u.name)) continue;
    destroys.push({ kind: 'destroy', unit: u.name, reason: 'its file is gone' });
  }

  const byUnit = (a: WatchAction, b: WatchAction) => cmp(a.unit, b.unit);
  // Rolling replaces last (they wait), grouped by template so each template rolls in one stretch.
  rolling.sort((a, b) => cmp(a.rolling?.template ?? '', b.rolling?.template ?? '') || cmp(a.unit, b.unit));
  return {
    actions: [
      ...destroys.sort(byUnit),
      ...submits.sort(byUnit),
      ...states.sort(byUnit),
      ...replaces.sort(byUnit),
      ...rolling,
    ],
    problems: problems.sort((a, b) => cmp(a.file, b.file)),
  };
}

function ownerOf(u: RegistryUnit): string {
  return u.origin === undefined ? 'fleetctl or the API' : `"${u.origin}"`;
}

function keepsMessage(current: RegistryUnit | undefined, origin: string): string {
  if (!current) return 'not submitted until fixed';
  if (current.origin !== origin) return `the cluster's unit (from ${ownerOf(current)}) is not touched`;
  return 'the version in the cluster keeps running';
}

/** One line of `fleetctl sync --dry-run`: verb, unit, detail. */
export function formatAction(a: WatchAction): string {
  switch (a.kind) {
    case 'submit': {
      const verb =
        a.spec.desiredState === 'launched'
          ? 'submit+start'
          : a.spec.desiredState === 'loaded'
            ? 'submit+load'
            : 'submit';
      return `${verb} ${a.unit} (${a.reason})`;
    }
    case 'replace':
      return `replace ${a.unit} (${a.reason}; ${a.previousHash.slice(0, 7)} -> ${a.spec.hash.slice(0, 7)}${
        a.rolling ? `, rolling: one ${a.rolling.template} instance at a time` : ''
      })`;
    case 'set-state':
      return `${a.verb} ${a.unit} (${a.reason})`;
    case 'destroy':
      return `destroy ${a.unit} (${a.reason})`;
  }
}

/** The origin recorded on units from a watched directory. */
export function watchOrigin(idOrDir: string): string {
  return `watch:${idOrDir}`;
}
