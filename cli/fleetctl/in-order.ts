// Many small registry writes from one command (start/destroy of 300 units) go to etcd a few at a time
// instead of one after another: etcd commits concurrent requests together (one fsync for many), so 300
// writes cost a few round trips instead of 300. Results are still handled in argument order, and a
// failure stops the command as the sequential loop did: nothing new is sent after it, the writes
// already in flight finish, and every write before the failing one is reported.

/** Requests in flight at once; etcd's own throughput levels off around here. */
export const WRITES_IN_FLIGHT = 16;

/**
 * Runs `write` for every item with at most `limit` in flight; calls `done(item, result)` in item order,
 * each as soon as it and all before it have finished. Rejects with the first failure (in item order)
 * after the writes in flight have settled.
 */
export async function writeInOrder<T, R>(
  items: readonly T[],
  write: (item: T) => Promise<R>,
  done: (item: T, result: R) => void = () => undefined,
  limit = WRITES_IN_FLIGHT,
): Promise<R[]> {
  const results: PromiseSettledResult<R>[] = [];
  const running = new Set<Promise<void>>();
  let next = 0;
  let reported = 0;
  let failed = false;
  const report = () => {
    for (; reported < items.length; reported++) {
      const r = results[reported];
      if (!r || r.status === 'rejected') return;
      done(items[reported] as T, r.value);
    }
  };
  while (next < items.length && !failed) {
    const i = next++;
    const p = write(items[i] as T).then(
      (value) => {
        results[i] = { status: 'fulfilled', value };
      },
      (reason: unknown) => {
        results[i] = { status: 'rejected', reason };
        failed = true;
      },
    );
    const tracked = p.finally(() => {
      running.delete(tracked);
      report();
    });
    running.add(tracked);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
  report();
  const firstFailure = results.find((r) => r?.status === 'rejected');
  if (firstFailure?.status === 'rejected') throw firstFailure.reason;
  return results.map((r) => (r as PromiseFulfilledResult<R>).value);
}
