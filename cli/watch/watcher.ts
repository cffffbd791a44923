// The watched unit directory's loop: scan the whole directory, plan, execute. fs.watch events only
// *trigger* a debounced rescan, so lost, duplicated or mislabelled events (Linux fs.watch mislabels
// atomic replaces and the recursive mode loses deletes) cannot make the result wrong; a periodic
// rescan catches whatever happened while no event arrived (or before the watcher started).
// Passes never overlap: a trigger during a pass marks the state dirty and one more pass follows.
import { type FSWatcher, watch } from 'node:fs';
import { resolve } from 'node:path';
import { errorLine } from '../../units/common.js';
import type { Logger } from '../../units/log.js';
import {
  DEFAULT_WAIT_ACTIVE,
  type ExecuteOptions,
  type ExecuteResult,
  executePlan,
  type WaitActiveOptions,
  type WatchRegistry,
} from './execute.js';
import { classifyDir, planSync, type SyncPlan, type WatchAction, watchOrigin } from './plan.js';
import { readUnitDir } from './scan.js';

export interface UnitDirWatcherOptions {
  /** The directory; resolved to an absolute path. */
  readonly dir: string;
  readonly registry: WatchRegistry;
  readonly log: Logger;
  /**
   * Recorded on every unit as `watch:<origin>`; defaults to the absolute directory path, so fleetds
   * configured with the same unit_watch_directory share ownership of its units (see README.md).
   */
  readonly origin?: string;
  /** Quiet time after the last fs event before a rescan. */
  readonly debounceMs?: number;
  /** Full rescan period, events or not. */
  readonly rescanIntervalMs?: number;
  /** Files modified more recently than this are left for the next scan (default: debounceMs). */
  readonly settleMs?: number;
  readonly waitActive?: WaitActiveOptions;
  /** Plan only; never write. */
  readonly dryRun?: boolean;
  /** Called after every pass (tests, `fleetctl sync --watch`). */
  readonly onPass?: (pass: PassReport) => void;
  /** Called after each registry write. */
  readonly onApplied?: (action: WatchAction) => void;
}

export interface PassReport {
  readonly plan: SyncPlan;
  /** Absent on dry runs and when the scan failed. */
  readonly result?: ExecuteResult;
  /** Set when the directory could not be listed or the registry read failed; nothing was changed. */
  readonly error?: string;
}

export interface UnitDirWatcher {
  readonly origin: string;
  /** Resolves after the first pass (the start-up scan). */
  readonly firstPass: Promise<PassReport>;
  /** Runs (or joins) a pass now and resolves with the report of a pass that started after the call. */
  rescan(): Promise<PassReport>;
  stop(): Promise<void>;
}

const EMPTY_PLAN: SyncPlan = { actions: [], problems: [] };

/** One scan → plan → (execute) over the directory. Shared by the watcher and `fleetctl sync`. */
export async function syncUnitDirOnce(opts: {
  readonly dir: string;
  readonly origin: string;
  readonly registry: WatchRegistry;
  readonly log: Logger;
  readonly settleMs?: number;
  readonly dryRun?: boolean;
  readonly waitActive?: WaitActiveOptions;
  readonly shouldContinue?: () => boolean;
  readonly onApplied?: (action: WatchAction) => void;
  readonly failedRollouts?: ExecuteOptions['failedRollouts'];
}): Promise<PassReport> {
  let plan: SyncPlan;
  try {
    const entries = await readUnitDir(
      opts.dir,
      opts.settleMs !== undefined ? { settleMs: opts.settleMs } : {},
    );
    const units = await opts.registry.listUnits();
    plan = planSync(classifyDir(entries), units, opts.origin);
  } catch (err) {
    return { plan: EMPTY_PLAN, error: errorLine(err) };
  }
  if (opts.dryRun) return { plan };
  const result = await executePlan(plan, {
    registry: opts.registry,
    origin: opts.origin,
    log: opts.log,
    waitActive: opts.waitActive ?? DEFAULT_WAIT_ACTIVE,
    ...(opts.shouldContinue ? { shouldContinue: opts.shouldContinue } : {}),
    ...(opts.onApplied ? { onApplied: opts.onApplied } : {}),
    ...(opts.failedRollouts ? { failedRollouts: opts.failedRollouts } : {}),
  });
  return { plan, result };
}

export function startUnitDirWatcher(opts: UnitDirWatcherOptions): UnitDirWatcher {
  const dir = resolve(opts.dir);
  const origin = watchOrigin(opts.origin ?? dir);
  const debounceMs = opts.debounceMs ?? 200;
  const rescanIntervalMs = opts.rescanIntervalMs ?? 10_000;
  const settleMs = opts.settleMs ?? debounceMs;
  const log = opts.log;

  let stopped = false;
  let running: Promise<void> | undefined;
  let dirty = false;
  /** An fs event arrived during the current pass: its plan may be stale, stop rolling. */
  let changedDuringPass = false;
  let debounceTimer: NodeJS.Timeout | undefined;
  let settleTimer: NodeJS.Timeout | undefined;
  let fsWatcher: FSWatcher | undefined;
  let passNo = 0;
  const waiters: { after: number; resolve: (r: PassReport) => void }[] = [];
  /** Problems already logged, by key: each distinct problem gets ONE log line until it goes away. */
  const reported = new Map<string, string>();
  /** Template rollouts that failed: not retried with the same contents (cli/watch/rolling.ts). */
  const failedRollouts: NonNullable<ExecuteOptions['failedRollouts']> = new Map();

  const report = (pass: PassReport) => {
    const current = new Map<string, string>();
    if (pass.error) current.set('<dir>', `unit directory ${dir}: ${pass.error}; nothing changed`);
    for (const p of pass.plan.problems) if (!p.pending) current.set(`file:${p.file}`, p.message);
    for (const f of pass.result?.failed ?? []) current.set(`action:${f.action.unit}`, f.error);
    for (const [key, msg] of current) {
      if (reported.get(key) === msg) continue;
      reported.set(key, msg);
      log.warn({ dir, key }, msg);
    }
    for (const key of [...reported.keys()]) {
      if (current.has(key)) continue;
      reported.delete(key);
      log.info({ dir, key }, `unit directory ${dir}: resolved: ${key}`);
    }
  };

  const runPass = async (): Promise<PassReport> => {
    changedDuringPass = false;
    const pass = await syncUnitDirOnce({
      dir,
      origin,
      registry: opts.registry,
      log,
      settleMs,
      ...(opts.dryRun ? { dryRun: true } : {}),
      waitActive: opts.waitActive ?? DEFAULT_WAIT_ACTIVE,
      shouldContinue: () => !stopped && !changedDuringPass,
      failedRollouts,
      ...(opts.onApplied ? { onApplied: opts.onApplied } : {}),
    });
    report(pass);
    // A file still being written: look again once it has been quiet for settleMs.
    if (!stopped && pass.plan.problems.some((p) => p.pending)) {
      clearTimeout(settleTimer);
      settleTimer = setTimeout(trigger, settleMs + 10);
    }
    ensureFsWatch();
    return pass;
  };

  const loop = async () => {
    while (dirty && !stopped) {
      dirty = false;
      const started = ++passNo;
      let pass: PassReport;
      try {
        pass = await runPass();
      } catch (err) {
        pass = { plan: EMPTY_PLAN, error: errorLine(err) };
        report(pass);
      }
      opts.onPass?.(pass);
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i];
        if (w && started > w.after) {
          waiters.splice(i, 1);
          w.resolve(pass);
        }
      }
    }
    running = undefined;
  };

  function trigger(): void {
    if (stopped) return;
    dirty = true;
    if (!running) running = loop();
  }

  const onFsEvent = () => {
    changedDuringPass = true;
    clearTimeout(debounceTimer);
    debounceTimer = setTimeout(trigger, debounceMs);
  };

  function ensureFsWatch(): void {
    if (fsWatcher || stopped) return;
    try {
      fsWatcher = watch(dir, { persistent: false }, onFsEvent);
      fsWatcher.on('error', (err) => {
        // e.g. the directory was removed: drop the watch; the periodic rescan re-establishes it.
        log.warn({ dir, err: errorLine(err) }, `unit directory ${dir}: watch lost; relying on rescans`);
        fsWatcher?.close();
        fsWatcher = undefined;
      });
    } catch {
      // Directory missing: the pass already logged it; retried at the next rescan.
    }
  }

  const interval = setInterval(trigger, rescanIntervalMs);
  interval.unref();

  const rescan = (): Promise<PassReport> =>
    new Promise((resolvePass) => {
      // Must be answered by a pass that starts after this call (the running one may predate a change).
      waiters.push({ after: passNo, resolve: resolvePass });
      if (running) dirty = true;
      else trigger();
    });

  // Watch before the first scan, so nothing changed during that scan goes unnoticed.
  ensureFsWatch();
  const firstPass = rescan();

  return {
    origin,
    firstPass,
    rescan,
    async stop() {
      stopped = true;
      clearInterval(interval);
      clearTimeout(debounceTimer);
      clearTimeout(settleTimer);
      fsWatcher?.close();
      fsWatcher = undefined;
      await running;
      for (const w of waiters.splice(0)) w.resolve({ plan: EMPTY_PLAN, error: 'watcher stopped' });
    },
  };
}
