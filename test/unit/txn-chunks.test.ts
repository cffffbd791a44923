import { describe, expect, it } from 'vitest';
import { chunkChanges } from '../../registry/txn-chunks.js';

const c = (machineID: string, i: number) => ({ machineID, i });
const ids = (chunks: { i: number }[][]) => chunks.map((ch) => ch.map((x) => x.i));

describe('chunkChanges', () => {
  it('cuts at perTxn operations', () => {
    const list = Array.from({ length: 7 }, (_, i) => c('m', i));
    expect(ids(chunkChanges(list, { perTxn: 3, keyCompares: true, absent: () => false }))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6],
    ]);
  });

  it('counts one compare per distinct absent machine in a chunk, besides the key compares', () => {
    const list = [c('gone', 0), c('gone', 1), c('gone2', 2), c('ok', 3), c('gone', 4)];
    const absent = (m: string) => m.startsWith('gone');
    // perTxn 4: gone's three changes cost 3 + 1 (gone) = 4; gone2's would add 1 + 1 -> new chunk.
    expect(ids(chunkChanges(list, { perTxn: 4, keyCompares: true, absent }))).toEqual([
      [0, 1, 4],
      [2, 3],
    ]);
    for (const ch of chunkChanges(list, { perTxn: 4, keyCompares: true, absent })) {
      const compares = ch.length + new Set(ch.map((x) => x.machineID).filter(absent)).size;
      expect(compares).toBeLessThanOrEqual(4);
    }
  });

  it('without key compares only absent machines cost compares; every change lands exactly once, in order per machine', () => {
    const list = Array.from({ length: 50 }, (_, i) => c(`m${i % 7}`, i));
    const chunks = chunkChanges(list, { perTxn: 5, keyCompares: false, absent: (m) => m !== 'm0' });
    expect(
      chunks
        .flat()
        .map((x) => x.i)
        .sort((a, b) => a - b),
    ).toEqual(list.map((x) => x.i));
    for (let m = 0; m < 7; m++) {
      const mine = chunks.flat().filter((x) => x.machineID === `m${m}`);
      expect(mine.map((x) => x.i)).toEqual(list.filter((x) => x.machineID === `m${m}`).map((x) => x.i));
    }
    for (const ch of chunks) {
      expect(ch.length).toBeLessThanOrEqual(5);
      expect(new Set(ch.map((x) => x.machineID).filter((m) => m !== 'm0')).size).toBeLessThanOrEqual(5);
    }
  });

  it("keeps each machine's changes in one transaction when they fit (300 units placed on 3 machines)", () => {
    const list = Array.from({ length: 300 }, (_, i) => c(`m${i % 3}`, i));
    const chunks = chunkChanges(list, { perTxn: 127, keyCompares: false, absent: () => false });
    expect(chunks.map((ch) => [...new Set(ch.map((x) => x.machineID))])).toEqual([['m0'], ['m1'], ['m2']]);
    expect(chunks.map((ch) => ch.length)).toEqual([100, 100, 100]);
  });

  it('packs small machines together and spreads a machine with more than one transaction over full ones', () => {
    const list = [
      ...Array.from({ length: 4 }, (_, i) => c(`small${i}`, i)),
      ...Array.from({ length: 7 }, (_, i) => c('big', 10 + i)),
    ];
    const chunks = chunkChanges(list, { perTxn: 3, keyCompares: true, absent: () => false });
    expect(ids(chunks)).toEqual([[0, 1, 2], [3], [10, 11, 12], [13, 14, 15], [16]]);
  });
});
