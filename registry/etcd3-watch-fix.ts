// Work-around for etcd3 1.1.2: when etcd cancels a watch itself (its start revision was compacted) while
// we are cancelling it too, etcd's answer to our cancel request names a watch etcd3 has already dropped.
// etcd3 then throws "Failed to find watcher for IWatchResponse" inside its stream handler, and every
// later watch on that client hangs (seen in engine-store.test.ts). Such an answer carries nothing: drop it.
import type { IWatchResponse } from 'etcd3';
import { WatchManager } from 'etcd3/lib/watch.js';

interface PatchableManager {
  watchers: { id: string | null }[];
  handleResponse(res: IWatchResponse): void;
}

const proto = WatchManager.prototype as unknown as PatchableManager;
const handleResponse = proto.handleResponse;
proto.handleResponse = function (this: PatchableManager, res: IWatchResponse): void {
  if (res.canceled && !this.watchers.some((w) => w.id === res.watch_id)) return;
  handleResponse.call(this, res);
};
