#!/usr/bin/env node
// Builds the web console (api/ui/client/) with esbuild: one minified browser script, the stylesheet and
// the page. `npm run build` writes them to dist/console/ (fleetd serves them from there); the release
// bundles embed the same strings (scripts/package/bundle.mjs, __FLEET_TS_CONSOLE__).
//
//   node scripts/build-console.mjs [OUT_DIR]     (default dist/console)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT = join(ROOT, 'api/ui/client');

/** { 'index.html', 'app.js', 'app.css' } as strings (synchronous: bundleOptions() is). */
export function buildConsole() {
  const result = buildSync({
    entryPoints: [join(CLIENT, 'main.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'warning',
  });
  const js = result.outputFiles[0]?.text;
  if (!js) throw new Error('esbuild produced no console script');
  return {
    'index.html': readFileSync(join(CLIENT, 'index.html'), 'utf8'),
    'app.js': js,
    'app.css': readFileSync(join(CLIENT, 'app.css'), 'utf8'),
  };
}

export function writeConsole(outDir = join(ROOT, 'dist/console')) {
  mkdirSync(outDir, { recursive: true });
  for (const [name, text] of Object.entries(buildConsole())) writeFileSync(join(outDir, name), text);
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${writeConsole(process.argv[2] ? resolve(process.argv[2]) : undefined)}\n`);
}
