#!/usr/bin/env node
// `npm run package`: every release artefact under out/ (git-ignored): the bundles (bundle.mjs), the
// .deb (deb.mjs), the .rpm (rpm.mjs) and a tarball of self-contained executables (sea.mjs).
// `--only bundle|deb|rpm|sea` builds the bundles plus that one artefact.
// Design notes (the artefacts' names): docs/architecture.md, "scripts/package/build.mjs".
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
