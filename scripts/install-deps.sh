#!/usr/bin/env bash
# Installs what fleet-ts needs on a fresh Debian 12 machine (as root): the Debian packages for the
# real etcd, systemd machines and OpenSSH used by tests and the demo, then the npm dependencies.
# Idempotent: packages already present are not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

# rpm: rpmbuild and rpm build and check the .rpm (npm run package, test/integration/packages.test.ts).
PKGS=(etcd-server etcd-client systemd-container openssh-server openssh-client iproute2 iptables python3 curl rpm)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian's postinst scripts try to start etcd/ssh; without systemd as PID 1 they just do nothing.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# `npm ci` installs exactly what package-lock.json records (the lock file holds every platform's optional
# packages, so it works on any machine). Skipped while node_modules is newer than both manifests.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] ||
  [ package.json -nt node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci (locked versions)"
  npm ci --no-audit --no-fund --loglevel=error
fi
