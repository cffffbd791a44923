import { defineConfig } from 'vitest/config';

// End-to-end suite on real systemd machines (systemd-nspawn). Files run one after another: each boots
// its own cluster, and a 2-core CI box should not boot several at once.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    fileParallelism: false,
    pool: 'forks',
    maxWorkers: 1,
    // Bounds, not measurements: booting a cluster took over 5 min on a 2-core host at load 30.
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
