#!/usr/bin/env bash
# Installs what fleet-ts needs on a fresh Debian 12 machine (as root): the Debian packages for the
# real etcd, systemd machines and OpenSSH used by tests and the demo, then the npm dependencies.
# Idempotent: packages already present are not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

# rpm: rpmbuild and rpm build and check the .rpm (npm run package, test/integration/packages.test.ts).
# mariadb-server, galera-4, rsync: the database examples (examples/galera, examples/mysql-replication),
# run inside the test machines; rsync is Galera's state transfer.
# chromium: the web console's browser test (test/e2e/console.test.ts, driven by playwright-core).
PKGS=(etcd-server etcd-client systemd-container openssh-server openssh-client iproute2 iptables python3 curl rpm
  mariadb-server galera-4 rsync chromium)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian's postinst scripts start their services (etcd, ssh, mariadb) through invoke-rc.d; without systemd
  # as PID 1 mariadb's would run its init script and leave a mariadbd on this host. A policy-rc.d that
  # answers 101 ("action forbidden") stops that; it is removed again unless it was there before.
  policy=/usr/sbin/policy-rc.d
  own_policy=no
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=yes
  fi
  trap '[ "$own_policy" = yes ] && rm -f "$policy"' EXIT
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$own_policy" = yes ] && rm -f "$policy"
  own_policy=no
  # The examples run their own mariadbd per unit; Debian's mariadb.service must not start on this host.
  if [[ " ${missing[*]} " == *" mariadb-server "* ]]; then
    systemctl disable mariadb.service >/dev/null 2>&1 || true
  fi
fi

# `npm ci` installs exactly what package-lock.json records (the lock file holds every platform's optional
# packages, so it works on any machine). Skipped while node_modules is newer than both manifests.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] ||
  [ package.json -nt node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci (locked versions)"
  npm ci --no-audit --no-fund --loglevel=error
fi
