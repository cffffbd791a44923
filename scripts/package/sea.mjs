// The self-contained tarball: Node's single-executable application (the host's own node binary with
// the bundled program injected by postject), so the target host needs no node at all. One binary,
// `fleet-ts`, with fleetctl and fleetd as symlinks to it (sea-entry.ts dispatches on the name):
// the binary is node itself (~100 MB), two copies would double the download.
// It needs glibc >= 2.28 like the official Node 20 builds it is made from.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { bundleOptions } from './bundle.mjs';

const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** Builds OUT_DIR/fleet-ts-<version>-linux-<arch>.tar.gz; returns its path. */
export async function buildSea(repo, outDir, _bundles, version) {
  const work = mkdtempSync(join(tmpdir(), 'fleet-ts-sea-'));
  try {
    const main = join(work, 'main.cjs');
    await build({
      ...bundleOptions(),
      entryPoints: [join(repo, 'scripts/package/sea-entry.ts')],
      outfile: main,
    });
    const blob = join(work, 'sea.blob');
    writeFileSync(
      join(work, 'sea-config.json'),
      JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true }),
    );
    execFileSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const name = `fleet-ts-${version}-linux-${process.arch}`;
    const dir = join(work, name);
    mkdirSync(join(dir, 'bin'), { recursive: true });
    const exe = join(dir, 'bin/fleet-ts');
    copyFileSync(process.execPath, exe);
    chmodSync(exe, 0o755);
    const postject = createRequire(join(repo, 'package.json')).resolve('postject/dist/cli.js');
    // postject prints harmless "Can't find string offset" warnings for node's ELF notes: shown only on failure.
    execFileSync(process.execPath, [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    symlinkSync('fleet-ts', join(dir, 'bin/fleetctl'));
    symlinkSync('fleet-ts', join(dir, 'bin/fleetd'));
    mkdirSync(join(dir, 'systemd'));
    for (const f of ['fleetd.service', 'fleet.socket'])
      copyFileSync(join(repo, 'packaging/systemd', f), join(dir, 'systemd', f));
    copyFileSync(join(repo, 'packaging/fleet.conf.sample'), join(dir, 'fleet.conf.sample'));
    copyFileSync(join(repo, 'LICENSE'), join(dir, 'LICENSE'));
    mkdirSync(outDir, { recursive: true });
    const tarball = join(outDir, `${name}.tar.gz`);
    execFileSync('tar', ['-C', work, '--owner=0', '--group=0', '-czf', tarball, name]);
    return tarball;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
