#!/usr/bin/env bash
# Installs fleet-ts on this host from its .deb or .rpm and joins the cluster, or removes it again.
# Needs no checkout and no fleetctl: copy this script and the package to the host and run it as root
# (`--help` prints the usage). Design notes (its steps): docs/architecture.md, "scripts/install-host.sh".
set -euo pipefail

PACKAGE=""
ENDPOINTS=""
METADATA=""
PUBLIC_IP=""
KEY_PREFIX=""
UNINSTALL=0
CONF=/etc/fleet/fleet.conf

say() { echo "install-host: $*"; }
die() {
  echo "install-host: $*" >&2
  exit 1
}
usage() {
  cat <<'EOF'
Installs fleet-ts on this host from its .deb or .rpm and joins the cluster, or removes it again.
Needs no checkout and no fleetctl: copy this script and the package to the host and run, as root,

  bash install-host.sh --package ./fleet-ts_0.1.0_all.deb --etcd-endpoints http://10.0.0.1:2379 \
       [--metadata role=worker,disk=ssd] [--public-ip 10.0.0.11] [--etcd-key-prefix /_coreos.com/fleet/]
  bash install-host.sh --uninstall

Steps: checks systemd >= 239 and node >= 20; installs the package (dpkg, or dnf/yum/rpm); writes
the cluster settings into /etc/fleet/fleet.conf; opens ssh (22/tcp) when firewalld or ufw is active;
enables and starts fleet.socket + fleetd; prints `fleetctl list-machines`. --uninstall stops fleetd
(its units move to the other machines) and purges the package.
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
  --package) PACKAGE="${2:?--package needs a file}"; shift 2 ;;
  --etcd-endpoints) ENDPOINTS="${2:?--etcd-endpoints needs URLs}"; shift 2 ;;
  --metadata) METADATA="${2:?--metadata needs key=value,...}"; shift 2 ;;
  --public-ip) PUBLIC_IP="${2:?--public-ip needs an address}"; shift 2 ;;
  --etcd-key-prefix) KEY_PREFIX="${2:?--etcd-key-prefix needs a prefix}"; shift 2 ;;
  --uninstall) UNINSTALL=1; shift ;;
  -h | --help) usage; exit 0 ;;
  *) die "unknown argument '$1' (see --help)" ;;
  esac
done

[ "$(id -u)" = 0 ] || die "run as root"

if [ "$UNINSTALL" = 1 ]; then
  if systemctl is-enabled --quiet fleetd.service 2>/dev/null || systemctl is-active --quiet fleetd.service; then
    say "stopping fleetd (its units move to the other machines) and fleet.socket"
    systemctl disable --now fleetd.service fleet.socket
  fi
  if command -v dpkg >/dev/null && dpkg-query -W -f='${Status}' fleet-ts 2>/dev/null | grep -q installed; then
    say "dpkg --purge fleet-ts"
    dpkg --purge fleet-ts
  elif command -v rpm >/dev/null && rpm -q fleet-ts >/dev/null 2>&1; then
    say "removing the fleet-ts rpm"
    if command -v dnf >/dev/null; then dnf remove -y fleet-ts; else rpm -e fleet-ts; fi
  else
    say "fleet-ts is not installed"
  fi
  rm -f /etc/tmpfiles.d/fleet-ts-selinux.conf
  exit 0
fi

[ -n "$PACKAGE" ] || die "--package FILE is required (the fleet-ts .deb or .rpm; see --help)"
[ -f "$PACKAGE" ] || die "no such package file: $PACKAGE"
[ -n "$ENDPOINTS" ] || die "--etcd-endpoints URL[,URL...] is required (where the cluster's etcd listens)"

# The compatibility floor (README "Install on a host"): systemd 239 (RHEL 8), node 20.
read -r _ sd_version _ < <(systemctl --version)
[ "${sd_version%%[!0-9]*}" -ge 239 ] 2>/dev/null || die "systemd $sd_version is too old: fleet-ts needs systemd >= 239"
command -v node >/dev/null || die "node is not installed: install Node.js >= 20 first (README: Install on a host)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "node $(node --version) is too old: fleet-ts needs Node.js >= 20 (README: Install on a host)"

case "$PACKAGE" in
*.deb)
  say "dpkg -i $PACKAGE"
  # --force-confold: an upgrade keeps the fleet.conf this script (or the operator) edited.
  dpkg --force-confold -i "$PACKAGE"
  ;;
*.rpm)
  if command -v dnf >/dev/null; then
    say "dnf install $PACKAGE"
    dnf install -y "$PACKAGE"
  elif command -v yum >/dev/null; then
    say "yum install $PACKAGE"
    yum install -y "$PACKAGE"
  else
    say "rpm -Uvh $PACKAGE"
    rpm -Uvh "$PACKAGE"
  fi
  ;;
*) die "$PACKAGE is neither a .deb nor an .rpm" ;;
esac

# fleet.conf keeps its documented defaults; the keys set here replace earlier lines of the same key.
set_key() {
  local key=$1 value=$2
  [ -n "$value" ] || return 0
  sed -i "/^${key}=/d" "$CONF"
  printf '%s="%s"\n' "$key" "$value" >>"$CONF"
  say "$CONF: $key=\"$value\""
}
grep -q '^# Set by install-host.sh' "$CONF" || printf '\n# Set by install-host.sh\n' >>"$CONF"
set_key etcd_servers "$ENDPOINTS"
set_key metadata "$METADATA"
set_key public_ip "$PUBLIC_IP"
set_key etcd_key_prefix "$KEY_PREFIX"

# Firewall: fleetd accepts no connections from the network; fleetctl ssh/status/journal reach the
# machines over SSH.
if command -v firewall-cmd >/dev/null && firewall-cmd --state >/dev/null 2>&1; then
  say "firewalld is active: allowing ssh (22/tcp) for fleetctl ssh/status/journal"
  firewall-cmd --quiet --permanent --add-service=ssh
  firewall-cmd --quiet --reload
elif command -v ufw >/dev/null && ufw status 2>/dev/null | grep -q '^Status: active'; then
  say "ufw is active: allowing 22/tcp for fleetctl ssh/status/journal"
  ufw allow 22/tcp >/dev/null
else
  say "no active firewalld or ufw: no firewall change (fleetd needs no inbound port; keep 22/tcp open for fleetctl ssh)"
fi

# SELinux: systemd must read the unit files fleetd writes under /run/fleet/units (linked into
# /run/systemd/system), so that directory carries systemd_unit_file_t; files created in it inherit it.
if command -v getenforce >/dev/null && [ "$(getenforce)" = Enforcing ]; then
  say "SELinux is enforcing: labelling /run/fleet/units systemd_unit_file_t"
  semanage fcontext -a -t systemd_unit_file_t '/run/fleet/units(/.*)?' 2>/dev/null ||
    semanage fcontext -m -t systemd_unit_file_t '/run/fleet/units(/.*)?'
  # /run is a tmpfs: recreate (and so relabel) the directory at every boot before fleetd starts.
  echo 'd /run/fleet/units 0755 root root -' >/etc/tmpfiles.d/fleet-ts-selinux.conf
  systemd-tmpfiles --create /etc/tmpfiles.d/fleet-ts-selinux.conf
  restorecon -R /run/fleet
fi

say "systemctl enable --now fleet.socket fleetd.service"
systemctl daemon-reload
systemctl enable --now fleet.socket fleetd.service

# Wait until this machine shows in the cluster (fleetctl speaks to the local fleetd's API socket).
machine_id=$(cat /etc/machine-id)
for _ in $(seq 1 60); do
  if fleetctl list-machines --full --no-legend 2>/dev/null | grep -q "^${machine_id}"; then
    fleetctl list-machines
    exit 0
  fi
  sleep 1
done
fleetctl list-machines || true
die "fleetd did not join the cluster within 60 s: see 'journalctl -u fleetd'"
