// While this machine leads, deletes unit contents no job or schedule entry references any more
// (registry/content-gc.ts says how that stays safe). Every `intervalMs`; errors are logged and
// the next round tries again.

import type { Namespace } from 'etcd3';
import { ContentCollector, type ContentCollectorOptions } from '../registry/content-gc.js';
import type { Logger } from '../units/log.js';
import type { LeaderElection } from './leader.js';

export const CONTENT_GC_INTERVAL_MS = 60_000;

export interface ContentGcOptions extends ContentCollectorOptions {
  readonly ns: Namespace;
  readonly leader: LeaderElection;
  readonly log: Logger;
  readonly intervalMs?: number;
}

export interface ContentGc {
  /** One round now (tests); resolves to the number of contents deleted. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function startContentGc(opts: ContentGcOptions): ContentGc {
  const collector = new ContentCollector(opts.ns, opts);
  let running: Promise<number> | null = null;
  const runOnce = (): Promise<number> => {
    if (running) return running;
    const guard = opts.leader.guard();
    if (guard === null || !opts.leader.isLeader()) return Promise.resolve(0);
    running = collector
      .collect(guard)
      .then((deleted) => {
        if (deleted > 0) opts.log.info({ deleted }, 'deleted unit contents no unit uses any more');
        return deleted;
      })
      .catch((err: unknown) => {
        opts.log.warn({ err: String(err) }, 'unit content cleanup failed; trying again later');
        return 0;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void runOnce(), opts.intervalMs ?? CONTENT_GC_INTERVAL_MS);
  timer.unref();
  return {
    runOnce,
    stop: async () => {
      clearInterval(timer);
      if (running) await running;
    },
  };
}
