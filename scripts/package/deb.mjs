// The .deb: the staged payload plus DEBIAN/{control,conffiles,md5sums,postinst,prerm,postrm}, built
// with dpkg-deb (--root-owner-group: every file root:root without fakeroot).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_FILE, DESCRIPTION, PACKAGE, SUMMARY, stagePayload } from './stage.mjs';

/** Builds OUT_DIR/fleet-ts_<version>_all.deb; returns its path. */
export function buildDeb(repo, outDir, bundles, version) {
  const root = mkdtempSync(join(tmpdir(), 'fleet-ts-deb-'));
  try {
    const files = stagePayload(repo, root, {
      bundles,
      version,
      unitDir: '/lib/systemd/system',
      licensePath: `/usr/share/doc/${PACKAGE}/copyright`,
    });
    const sizeKiB = Math.ceil(files.reduce((n, f) => n + statSync(join(root, f)).size, 0) / 1024);
    const control = [
      `Package: ${PACKAGE}`,
      `Version: ${version}`,
      'Architecture: all',
      'Maintainer: fleet-ts developers <fleet-ts@localhost>',
      `Installed-Size: ${sizeKiB}`,
      'Depends: nodejs (>= 20), systemd',
      'Section: admin',
      'Priority: optional',
      `Description: ${SUMMARY}`,
      ...DESCRIPTION.map((l) => ` ${l}`),
      '',
    ].join('\n');
    chmodSync(root, 0o755); // mkdtemp's 0700 would be recorded for ./
    mkdirSync(join(root, 'DEBIAN'));
    writeFileSync(join(root, 'DEBIAN/control'), control);
    writeFileSync(join(root, 'DEBIAN/conffiles'), `${CONFIG_FILE}\n`);
    const md5 = files
      .filter((f) => f !== CONFIG_FILE)
      .map(
        (f) =>
          `${createHash('md5')
            .update(readFileSync(join(root, f)))
            .digest('hex')}  ${f.slice(1)}\n`,
      );
    writeFileSync(join(root, 'DEBIAN/md5sums'), md5.join(''));
    for (const script of ['postinst', 'prerm', 'postrm']) {
      copyFileSync(join(repo, 'packaging/deb', script), join(root, 'DEBIAN', script));
      chmodSync(join(root, 'DEBIAN', script), 0o755);
    }
    mkdirSync(outDir, { recursive: true });
    const deb = join(outDir, `${PACKAGE}_${version}_all.deb`);
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, deb], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return deb;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
