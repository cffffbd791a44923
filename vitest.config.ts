import { defineConfig } from 'vitest/config';

// Unit and integration tests. The e2e suite (real systemd machines) has its own
// config, test/e2e/vitest.config.ts, because it must run alone and in order.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    setupFiles: ['test/support/fast-check-seed.ts'],
    pool: 'forks',
    maxWorkers: 2,
    // Generous bounds on waits, not measurements: a loaded 2-core machine (other test runs, booting
    // systemd machines) runs a test many times slower than an idle one.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
