#!/usr/bin/env bash
# `npm run demo`: boots a 3-machine fleet-ts cluster of real systemd machines (systemd-nspawn) with
# etcd on this host, runs the seed-003 scenario while printing every fleetctl command and its output,
# and leaves the cluster running. `npm run demo -- stop` tears down everything the demo started.
# Needs root on Debian 12 (installs its packages with scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: must run as root (it creates a network bridge and systemd-nspawn machines)" >&2
  exit 1
fi

cmd="${1:-start}"
case "$cmd" in
  start)
    bash scripts/install-deps.sh
    # tsc emits even when it reports type errors; the demo only needs the emitted dist/.
    npm run --silent build || echo "demo: the build reported errors; trying with what tsc emitted" >&2
    exec node --import tsx scripts/demo.ts start
    ;;
  stop)
    # tsx comes with the npm dependencies; without them there is nothing of the demo to stop anyway.
    [ -d node_modules/tsx ] || bash scripts/install-deps.sh
    exec node --import tsx scripts/demo.ts stop
    ;;
  *)
    echo "demo: unknown command \"$cmd\" (use: npm run demo, or npm run demo -- stop)" >&2
    exit 2
    ;;
esac
