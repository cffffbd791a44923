// The files the .deb and the .rpm install, laid out under a staging root. Both packages install the
// same tree except for the systemd unit directory (Debian: /lib/systemd/system, which is also right
// on hosts without merged /usr; RPM distributions: /usr/lib/systemd/system) and the license path.
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { manPages } from './manpages.mjs';

export const PACKAGE = 'fleet-ts';
export const SUMMARY = 'fleet-compatible cluster unit scheduler (fleetd, fleetctl)';
export const DESCRIPTION = [
  'fleet-ts treats a group of systemd hosts as one: submit a unit file once, the cluster decides where it',
  'runs, keeps it running when a host dies, and lets you status, journal and ssh to it from anywhere.',
  'It speaks CoreOS fleet commands, unit options and HTTP API v1, and keeps its state in etcd v3.',
];
/** Where fleetd reads its configuration; a conffile / %config(noreplace): upgrades keep local edits. */
export const CONFIG_FILE = '/etc/fleet/fleet.conf';

/**
 * Lays out the package payload under `root` and returns the installed paths (absolute, files only).
 * `bundles` are the fleetctl and fleetd single-file bundles; `licensePath` where LICENSE goes.
 */
export function stagePayload(repo, root, { bundles, unitDir, licensePath, version }) {
  const files = [];
  const put = (path, data, mode = 0o644) => {
    const target = join(root, path);
    mkdirSync(dirname(target), { recursive: true });
    if (typeof data === 'string' || Buffer.isBuffer(data)) writeFileSync(target, data);
    else copyFileSync(data.from, target);
    chmodSync(target, mode);
    files.push(path);
  };
  put('/usr/bin/fleetctl', { from: bundles.fleetctl }, 0o755);
  put('/usr/bin/fleetd', { from: bundles.fleetd }, 0o755);
  put(`${unitDir}/fleetd.service`, { from: join(repo, 'packaging/systemd/fleetd.service') });
  put(`${unitDir}/fleet.socket`, { from: join(repo, 'packaging/systemd/fleet.socket') });
  put(CONFIG_FILE, { from: join(repo, 'packaging/fleet.conf.sample') });
  put(licensePath, readFileSync(join(repo, 'LICENSE')));
  for (const page of manPages(bundles, version)) {
    put(
      `/usr/share/man/man${page.section}/${page.name}.${page.section}.gz`,
      gzipSync(page.text, { level: 9 }),
    );
  }
  return files;
}
