// The physical limit every figure is divided by: single-key puts and small transactions (one compare,
// one put) against the same etcd, from this process, with a fixed number of requests in flight.
import type { Namespace } from 'etcd3';

export interface RawRates {
  readonly putPerS: number;
  readonly txnPerS: number;
}

async function rate(
  count: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) await op(i);
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

export async function measureRaw(ns: Namespace, count: number, concurrency: number): Promise<RawRates> {
  const value = JSON.stringify({ hash: 'a'.repeat(40), desiredState: 'launched' });
  await rate(Math.min(200, count), concurrency, async (i) => {
    await ns.put(`bench-raw/warm${i}`).value(value);
  });
  const putPerS = await rate(count, concurrency, async (i) => {
    await ns.put(`bench-raw/put${i}`).value(value);
  });
  const txnPerS = await rate(count, concurrency, (i) =>
    ns
      .if(`bench-raw/txn${i}`, 'Create', '==', 0)
      .then(ns.put(`bench-raw/txn${i}`).value(value))
      .commit(),
  );
  await ns.delete().prefix('bench-raw/');
  return { putPerS, txnPerS };
}
