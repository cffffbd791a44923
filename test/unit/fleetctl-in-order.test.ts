// writeInOrder: fleetctl's concurrent registry writes keep the sequential loop's visible behaviour —
// results reported in argument order, at most `limit` in flight, and a failure stops new writes and
// reports exactly the items before it.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { writeInOrder } from '../../cli/fleetctl/in-order.js';

describe('writeInOrder', () => {
  it('reports every result in item order although later writes finish first', async () => {
    const seen: string[] = [];
    const results = await writeInOrder(
      ['a', 'b', 'c', 'd'],
      async (x) => {
        await sleep(x === 'a' ? 30 : 1);
        return x.toUpperCase();
      },
      (x, r) => seen.push(`${x}=${r}`),
    );
    expect(results).toEqual(['A', 'B', 'C', 'D']);
    expect(seen).toEqual(['a=A', 'b=B', 'c=C', 'd=D']);
  });

  it('never has more than `limit` writes in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const items = Array.from({ length: 50 }, (_, i) => i);
    await writeInOrder(
      items,
      async (i) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await sleep(i % 3);
        inFlight--;
      },
      undefined,
      4,
    );
    expect(peak).toBe(4);
  });

  it('a failure stops new writes, reports the items before it and rejects with its error', async () => {
    const started: number[] = [];
    const reported: number[] = [];
    const items = Array.from({ length: 20 }, (_, i) => i);
    const run = writeInOrder(
      items,
      async (i) => {
        started.push(i);
        await sleep(i === 5 ? 5 : 1);
        if (i === 5) throw new Error('write 5 failed');
        return i;
      },
      (i) => reported.push(i),
      3,
    );
    await expect(run).rejects.toThrow('write 5 failed');
    expect(reported).toEqual([0, 1, 2, 3, 4]);
    expect(Math.max(...started)).toBeLessThan(19);
  });

  it('handles no items', async () => {
    expect(await writeInOrder([], async () => 1)).toEqual([]);
  });
});
