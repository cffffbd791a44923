// One registry change watch shared by every observer: the web console's event streams (api/events.ts)
// would otherwise hold one etcd watcher each. The first subscriber opens the watch (./change-watch.ts),
// every change reaches every subscriber, and the last one to stop closes it.

import type { ChangeWatch } from './change-watch.js';

export type OpenChangeWatch = (onChange: () => void) => Promise<ChangeWatch>;

/** A watchChanges that opens at most one underlying watch at a time through `open`. */
export function shareChangeWatch(open: OpenChangeWatch): OpenChangeWatch {
  const subscribers = new Set<() => void>();
  let shared: Promise<ChangeWatch> | undefined;
  const notifyAll = () => {
    for (const s of [...subscribers]) s();
  };
  return async (onChange) => {
    // A fresh function per subscription: the same callback may subscribe twice and stop once.
    const subscriber = () => onChange();
    subscribers.add(subscriber);
    if (!shared) {
      const opening = open(notifyAll);
      shared = opening;
      // A watch that could not be opened is not kept: the next subscriber tries again.
      opening.catch(() => {
        if (shared === opening) shared = undefined;
      });
    }
    const mine = shared;
    try {
      await mine;
    } catch (err) {
      subscribers.delete(subscriber);
      throw err;
    }
    let stopped = false;
    return {
      stop: async () => {
        if (stopped) return;
        stopped = true;
        subscribers.delete(subscriber);
        if (subscribers.size > 0 || shared !== mine) return;
        shared = undefined;
        await (await mine).stop();
      },
    };
  };
}
