// What goes into a machine: the units masked at boot, fleet.conf, the test sshd and fleet.service.
import type { MachineSpec } from './types.js';

// Services systemd's presets would start in a machine with an empty /etc. Debian's etcd/ssh/postgres/mariadb
// would grab ports or fight us; networkd/resolved/timesyncd would touch the network we configure;
// timers are noise; console-getty would spin on the passive console.
export const MASKED_UNITS = [
  'etcd.service',
  'ssh.service',
  'ssh.socket',
  'postgresql.service',
  'mariadb.service',
  'e2scrub_reap.service',
  'nftables.service',
  'systemd-networkd.service',
  'systemd-networkd.socket',
  'systemd-network-generator.service',
  'systemd-networkd-wait-online.service',
  'systemd-resolved.service',
  'systemd-timesyncd.service',
  'systemd-homed.service',
  'systemd-userdbd.socket',
  'systemd-pstore.service',
  'systemd-sysext.service',
  'systemd-boot-update.service',
  'console-getty.service',
  'apt-daily-upgrade.timer',
  'apt-daily.timer',
  'dpkg-db-backup.timer',
  'e2scrub_all.timer',
  'fstrim.timer',
  'man-db.timer',
];

export function fleetConf(spec: MachineSpec, etcdEndpoint: string, ip: string): string {
  const lines = [`etcd_servers=${etcdEndpoint}`, `public_ip=${ip}`];
  const md = Object.entries(spec.metadata ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  if (md) lines.push(`metadata="${md}"`);
  for (const [k, v] of Object.entries(spec.fleetConf ?? {})) lines.push(`${k}=${String(v)}`);
  return `${lines.join('\n')}\n`;
}

export const SSHD_CONFIG = `Port 22
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
AuthorizedKeysFile /etc/fleet-test/authorized_keys
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
PidFile none
Subsystem sftp internal-sftp
`;

// Runs inside the machine once systemd is up. /etc starts empty (volatile root): no sshd privsep
// user and root's password field is "!*" (locked, which sshd without PAM rejects even for keys).
// Only an ed25519 host key is generated: `ssh-keygen -A` would also make RSA, slower on 2 cores.
export const SETUP_SSHD = `set -e
mkdir -p /etc/ssh /run/sshd
[ -f /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
getent passwd sshd >/dev/null || systemd-sysusers --inline 'u sshd - - /run/sshd /usr/sbin/nologin' >/dev/null
usermod -p '*' root
/usr/sbin/sshd -t -f /etc/fleet-test/sshd_config
systemd-run --quiet --unit=test-sshd --property=Restart=always /usr/sbin/sshd -D -e -f /etc/fleet-test/sshd_config
cat /etc/ssh/ssh_host_ed25519_key.pub
`;

export function fleetServiceUnit(env: Readonly<Record<string, string>>): string {
  const envLines = Object.entries(env).map(([k, v]) => `Environment=${k}=${v}`);
  return `[Unit]
Description=fleet-ts daemon (test harness)
After=network.target

[Service]
${envLines.join('\n')}
ExecStart=/usr/bin/node /opt/fleet-ts/dist/cli/fleetd.js --config /etc/fleet/fleet.conf
Restart=no
`;
}
