#!/usr/bin/env node
// `npm run package`: every release artefact under out/ (git-ignored).
//   out/bundle/fleetctl.cjs, out/bundle/fleetd.cjs   single-file bundles (scripts/package/bundle.mjs)
import { bundle } from './bundle.mjs';

for (const f of await bundle()) process.stdout.write(`${f}\n`);
