#!/usr/bin/env bash
# `npm run demo`: boots real systemd machines (systemd-nspawn) running fleetd, etcd on this host, shows
# fleet-ts working (every command printed, then its output) and leaves the cluster running with one
# `export` line for fleetctl. `-- --help` steps and options, `-- stop` removes everything, `-- galera`
# runs the Galera example (examples/galera) on 4 machines. Needs root on Debian 12 (install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

demo() { exec node --import tsx scripts/demo.ts "$@"; }
# tsx comes with the npm dependencies; without them there is no demo to stop or describe.
need_tsx() { [ -d node_modules/tsx ] || bash scripts/install-deps.sh; }

cmd="${1:-start}"
case "$cmd" in
  -h | --help | help)
    need_tsx
    demo --help
    ;;
esac

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: must run as root (it creates a network bridge and systemd-nspawn machines)" >&2
  exit 1
fi

case "$cmd" in
  stop | env)
    need_tsx
    demo "$cmd"
    ;;
  start | galera | -*)
    if { [ "$cmd" = start ] || [ "$cmd" = galera ]; } && [ $# -gt 0 ]; then shift; fi
    install=yes
    for a in "$@"; do [ "$a" = --no-install ] && install=no; done
    if [ "$install" = yes ]; then bash scripts/install-deps.sh; else need_tsx; fi
    # tsc emits even when it reports type errors; the demo only needs the emitted dist/.
    npm run --silent build || echo "demo: the build reported errors; trying with what tsc emitted" >&2
    if [ "$cmd" = galera ]; then demo galera "$@"; else demo start "$@"; fi
    ;;
  *)
    echo "demo: unknown command \"$cmd\" (see: npm run demo -- --help)" >&2
    exit 2
    ;;
esac
