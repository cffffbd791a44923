// One etcd watch over the registry's whole key prefix, for observers that only need to know "something
// changed" (the web console's live updates, api/events.ts). It is the stores' resumable watch.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Namespace } from 'etcd3';
import { prefixRange, type ResumableWatch, watchRange } from './resumable-watch.js';

export interface ChangeWatch {
  stop(): Promise<void>;
}

const RESTART_DELAY_MS = 1000;

/** Calls `onChange` after every watch response (a put or delete of any key under the prefix). */
export async function watchChanges(ns: Namespace, onChange: () => void): Promise<ChangeWatch> {
  let stopped = false;
  let watch: ResumableWatch | undefined;
  const start = async (): Promise<void> => {
    // Any read answers with the store's revision: the watch starts right after it.
    const { header } = await ns.get('').exec();
    if (stopped) return;
    watch = watchRange(ns, prefixRange(''), BigInt(header.revision), {
      onEvents: () => onChange(),
      onCancelled: () => void restart(),
    });
  };
  // etcd cancelled the watch (its resume revision was compacted during a long disconnect): watch again
  // from now, and tell the observer, whose view may have missed changes meanwhile.
  const restart = async (): Promise<void> => {
    while (!stopped) {
      try {
        await start();
        if (!stopped) onChange();
        return;
      } catch {
        await sleep(RESTART_DELAY_MS);
      }
    }
  };
  await start();
  return {
    stop: async () => {
      stopped = true;
      await watch?.cancel();
    },
  };
}
