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
    // perTxn 4: [0,1] cost 1+1 +1(gone) = 3; 2 would add 1+1 = 5 > 4 -> new chunk.
    expect(ids(chunkChanges(list, { perTxn: 4, keyCompares: true, absent }))).toEqual([[0, 1], [2, 3], [4]]);
    for (const ch of chunkChanges(list, { perTxn: 4, keyCompares: true, absent })) {
      const compares = ch.length + new Set(ch.map((x) => x.machineID).filter(absent)).size;
      expect(compares).toBeLessThanOrEqual(4);
    }
  });

  it('without key compares only absent machines cost compares; every change lands exactly once, in order', () => {
    const list = Array.from({ length: 50 }, (_, i) => c(`m${i % 7}`, i));
    const chunks = chunkChanges(list, { perTxn: 5, keyCompares: false, absent: (m) => m !== 'm0' });
    expect(chunks.flat().map((x) => x.i)).toEqual(list.map((x) => x.i));
    for (const ch of chunks) {
      expect(ch.length).toBeLessThanOrEqual(5);
      expect(new Set(ch.map((x) => x.machineID).filter((m) => m !== 'm0')).size).toBeLessThanOrEqual(5);
    }
  });
});
