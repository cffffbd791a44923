// registry/shared-change-watch.ts: every console event stream shares one registry watch.
import { describe, expect, it } from 'vitest';
import type { ChangeWatch } from '../../registry/change-watch.js';
import { shareChangeWatch } from '../../registry/shared-change-watch.js';

/** A fake underlying watch: counts opens and stops, and fires changes on demand. */
function fakeWatch(failFirst = false) {
  const w = { opens: 0, stops: 0, fire: () => {} };
  const open = async (onChange: () => void): Promise<ChangeWatch> => {
    w.opens++;
    if (failFirst && w.opens === 1) throw new Error('etcd unavailable');
    w.fire = onChange;
    return {
      stop: async () => {
        w.stops++;
      },
    };
  };
  return { w, open };
}

describe('shared change watch', () => {
  it('opens one watch for all subscribers, tells each of every change, closes it after the last', async () => {
    const { w, open } = fakeWatch();
    const watchChanges = shareChangeWatch(open);
    const seen: string[] = [];
    const a = await watchChanges(() => seen.push('a'));
    const b = await watchChanges(() => seen.push('b'));
    expect(w.opens).toBe(1);
    w.fire();
    expect(seen).toEqual(['a', 'b']);
    await a.stop();
    await a.stop();
    w.fire();
    expect(seen).toEqual(['a', 'b', 'b']);
    expect(w.stops).toBe(0);
    await b.stop();
    expect(w.stops).toBe(1);
    const c = await watchChanges(() => seen.push('c'));
    expect(w.opens).toBe(2);
    w.fire();
    expect(seen.at(-1)).toBe('c');
    await c.stop();
    expect(w.stops).toBe(2);
  });

  it('a watch that fails to open fails its subscribers; the next subscriber opens a new one', async () => {
    const { w, open } = fakeWatch(true);
    const watchChanges = shareChangeWatch(open);
    await expect(watchChanges(() => {})).rejects.toThrow('etcd unavailable');
    const seen: number[] = [];
    const s = await watchChanges(() => seen.push(1));
    w.fire();
    expect([w.opens, seen]).toEqual([2, [1]]);
    await s.stop();
    expect(w.stops).toBe(1);
  });
});
