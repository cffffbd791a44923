// The .rpm: rpmbuild -bb over the staged payload with packaging/rpm/fleet-ts.spec.in (scriptlets,
// %config(noreplace) fleet.conf, Requires nodejs >= 20). Everything happens in a temp _topdir.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DESCRIPTION, PACKAGE, SUMMARY, stagePayload } from './stage.mjs';

/** Builds OUT_DIR/fleet-ts-<version>-1.noarch.rpm; returns its path. */
export function buildRpm(repo, outDir, bundles, version) {
  const top = mkdtempSync(join(tmpdir(), 'fleet-ts-rpm-'));
  try {
    const stage = join(top, 'stage');
    stagePayload(repo, stage, {
      bundles,
      version,
      unitDir: '/usr/lib/systemd/system',
      licensePath: `/usr/share/licenses/${PACKAGE}/LICENSE`,
    });
    const spec = readFileSync(join(repo, 'packaging/rpm/fleet-ts.spec.in'), 'utf8')
      .replaceAll('@VERSION@', version)
      .replaceAll('@SUMMARY@', SUMMARY)
      .replaceAll('@DESCRIPTION@', DESCRIPTION.join('\n'))
      .replaceAll('@STAGE@', stage);
    writeFileSync(join(top, `${PACKAGE}.spec`), spec);
    execFileSync(
      'rpmbuild',
      [
        '-bb',
        '--quiet',
        '--define',
        `_topdir ${top}`,
        // The payload is prebuilt JavaScript: no debuginfo, no brp scripts rewriting shebangs.
        '--define',
        'debug_package %{nil}',
        '--define',
        '__os_install_post %{nil}',
        '--define',
        '_build_id_links none',
        join(top, `${PACKAGE}.spec`),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const dir = join(top, 'RPMS/noarch');
    const [name] = readdirSync(dir);
    mkdirSync(outDir, { recursive: true });
    const rpm = join(outDir, name);
    copyFileSync(join(dir, name), rpm);
    return rpm;
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
}
