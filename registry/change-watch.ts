// One etcd watch over the registry's whole key prefix, for observers that only need to know "something
// changed" (the web console's live updates, api/events.ts). etcd3 resumes the watch after a reconnect.

import type { Namespace, Watcher } from 'etcd3';

export interface ChangeWatch {
  stop(): Promise<void>;
}

/** Calls `onChange` after every watch response (a put or delete of any key under the prefix). */
export async function watchChanges(ns: Namespace, onChange: () => void): Promise<ChangeWatch> {
  const watcher: Watcher = await ns.watch().prefix('').create();
  watcher.on('data', () => onChange());
  // A cancelled or failing watch is re-established by etcd3; the observer keeps its last view meanwhile.
  watcher.on('error', () => {});
  return {
    stop: async () => {
      await watcher.cancel().catch(() => {});
    },
  };
}
