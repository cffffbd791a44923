import { describe, expect, it } from 'vitest';
import { fenceMarginMs, fenceThresholdMs, shouldFence } from '../../agent/fence.js';

describe('self-fencing rule', () => {
  it('fleet default ttl 30 s: fence after 24 s without keepalive (margin 6 s)', () => {
    expect(fenceMarginMs(30_000)).toBe(6000);
    expect(fenceThresholdMs(30_000)).toBe(24_000);
    expect(shouldFence(1_000_000 + 23_999, 1_000_000, 30_000)).toBe(false);
    expect(shouldFence(1_000_000 + 24_001, 1_000_000, 30_000)).toBe(true);
  });

  it('margin is at least 2 s', () => {
    expect(fenceThresholdMs(8000)).toBe(6000);
  });

  it('threshold never drops below ttl/2 (keepalives come every ttl/3)', () => {
    expect(fenceThresholdMs(3000)).toBe(1500);
    expect(fenceThresholdMs(2000)).toBe(1000);
  });

  it('never fences before the first announce', () => {
    expect(shouldFence(10_000_000, 0, 30_000)).toBe(false);
  });

  it('fences strictly before the lease would expire', () => {
    for (const ttl of [2000, 5000, 8000, 30_000, 120_000]) {
      expect(fenceThresholdMs(ttl)).toBeLessThan(ttl);
      expect(fenceThresholdMs(ttl)).toBeGreaterThan(ttl / 3);
    }
  });
});
