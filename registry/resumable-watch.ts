// The one etcd watch every store uses: a watcher of one key range that resumes, after a reconnect,
// exactly after the newest revision it received, and reports when it cannot resume at all.

import type { IWatchResponse, Namespace, Watcher } from 'etcd3';
import { prefixEnd } from './etcd-read.js';

/** Keys `start` <= key < `end`. */
export interface WatchRange {
  readonly start: string;
  readonly end: Buffer;
}

export const prefixRange = (prefix: string): WatchRange => ({ start: prefix, end: prefixEnd(prefix) });

export interface ResumableWatchHandlers {
  /** A response with events (never called for an empty one, nor after cancel()). */
  onEvents(res: IWatchResponse): void;
  /** etcd cancelled the watch (typically: the resume revision was compacted); it will not resume. */
  onCancelled(err: unknown): void;
}

export interface ResumableWatch {
  /** Every event of the range up to this revision has been received (not necessarily processed). */
  readonly received: bigint;
  /** True until cancel() or onCancelled: events of a watch that is no longer current must be dropped. */
  isCurrent(): boolean;
  cancel(): Promise<void>;
}

/** Watches `range` from `after + 1`. */
export function watchRange(
  ns: Namespace,
  range: WatchRange,
  after: bigint,
  handlers: ResumableWatchHandlers,
): ResumableWatch {
  let received = after;
  let current = true;
  // Set when etcd itself cancelled the watch (e.g. compaction). etcd3's cancel() would then send a cancel
  // request for an ID etcd no longer knows: no answer comes, so cancel() would wait forever, and a late
  // answer for that ID makes etcd3 throw "Failed to find watcher" and stalls the client's other watches.
  let cancelledByEtcd = false;
  const w: Watcher = ns
    .watch()
    .inRange(range)
    .startRevision(String(after + 1n))
    .watcher();
  // etcd3 resumes a watcher from `header.revision + 1` of the last response. For a watcher catching up
  // on history, etcd sends the current store revision in that header while more events are still to
  // come, so that resume point can skip events. We therefore pin the resume revision ourselves after
  // etcd3's own listeners ran (ours are registered later, so they run later).
  const pin = () => {
    (w as unknown as { request: { start_revision?: string } }).request.start_revision = String(received + 1n);
  };
  w.on('data', (res: IWatchResponse) => {
    const last = res.events[res.events.length - 1];
    if (last) {
      const rev = BigInt(last.kv.mod_revision);
      if (rev > received) received = rev;
    } else if (!res.created && !res.canceled) {
      // Progress notification: every event up to header.revision was delivered.
      const rev = BigInt(res.header.revision);
      if (rev > received) received = rev;
    }
    pin();
    if (current && res.events.length > 0) handlers.onEvents(res);
  });
  w.on('connected', pin);
  w.on('disconnected', pin);
  w.on('error', (err: unknown) => {
    cancelledByEtcd = true;
    if (!current) return;
    current = false;
    handlers.onCancelled(err);
  });
  return {
    get received() {
      return received;
    },
    isCurrent: () => current,
    cancel: async () => {
      current = false;
      if (cancelledByEtcd) return;
      await w.cancel().catch(() => undefined);
    },
  };
}
