import { defineConfig } from 'vitest/config';

// End-to-end suite on real systemd machines (systemd-nspawn). Files run one after another: each boots
// its own cluster, and a 2-core CI box should not boot several at once.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    fileParallelism: false,
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
