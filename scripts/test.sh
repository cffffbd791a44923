#!/usr/bin/env bash
# The one command that runs every test: installs what it needs, builds, runs lint + unit + integration
# tests (real etcd) and the end-to-end suite (real systemd machines), then prints `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh || { echo "install-deps failed"; echo "0 passed, 1 failed"; exit 1; }
rm -rf .test-results && mkdir -p .test-results

status=0
npm run --silent build || status=1

# Unit + integration tests (lint and typecheck run as tests too, see test/unit/lint.test.ts).
npx vitest run --reporter=default --reporter=json --outputFile.json=.test-results/main.json || status=1

# End-to-end tests on real systemd machines: run alone, in order.
if [ -f test/e2e/vitest.config.ts ]; then
  npx vitest run --config test/e2e/vitest.config.ts --reporter=default --reporter=json \
    --outputFile.json=.test-results/e2e.json || status=1
fi

node scripts/summarize-tests.mjs .test-results/*.json || status=1
exit $status
