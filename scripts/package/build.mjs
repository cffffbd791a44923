#!/usr/bin/env node
// `npm run package`: every release artefact under out/ (git-ignored).
//   out/bundle/fleetctl.cjs, fleetd.cjs   single-file bundles (bundle.mjs), need node >= 20 on the host
//   out/fleet-ts_<v>_all.deb              Debian/Ubuntu package (deb.mjs)
//   out/fleet-ts-<v>-1.noarch.rpm         Rocky/Alma/RHEL/Fedora package (rpm.mjs)
//   out/fleet-ts-<v>-linux-x64.tar.gz     self-contained executables, no node needed (sea.mjs)
// `--only bundle|deb|rpm|sea` builds the bundles plus that one artefact.
import { join } from 'node:path';
import { bundle, ROOT, VERSION } from './bundle.mjs';
import { buildDeb } from './deb.mjs';
import { buildRpm } from './rpm.mjs';
import { buildSea } from './sea.mjs';

const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
const out = join(ROOT, 'out');
const [fleetctl, fleetd] = await bundle(join(out, 'bundle'));
const bundles = { fleetctl, fleetd };
const built = [fleetctl, fleetd];
if (!only || only === 'deb') built.push(buildDeb(ROOT, out, bundles, VERSION));
if (!only || only === 'rpm') built.push(buildRpm(ROOT, out, bundles, VERSION));
if (!only || only === 'sea') built.push(await buildSea(ROOT, out, bundles, VERSION));
for (const f of built) process.stdout.write(`${f}\n`);
