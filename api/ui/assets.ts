// The console's page, script and stylesheet. The release bundles (scripts/package/bundle.mjs) embed
// them at build time as __FLEET_TS_CONSOLE__; from dist/ or the source tree they are read from
// dist/console/, which `npm run build` writes (scripts/build-console.mjs).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ConsoleAssets {
  readonly 'index.html': string;
  readonly 'app.js': string;
  readonly 'app.css': string;
}

export const ASSET_NAMES = ['index.html', 'app.js', 'app.css'] as const;

declare const __FLEET_TS_CONSOLE__: ConsoleAssets | undefined;

function fromDist(): ConsoleAssets | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const base = join(dir, 'dist', 'console');
    if (existsSync(join(dir, 'package.json')) && existsSync(join(base, 'index.html'))) {
      const read = (name: string) => readFileSync(join(base, name), 'utf8');
      return { 'index.html': read('index.html'), 'app.js': read('app.js'), 'app.css': read('app.css') };
    }
    dir = dirname(dir);
  }
  return undefined;
}

let cached: ConsoleAssets | undefined;

/** The assets, or undefined when this build has none (a source tree without `npm run build`). */
export function consoleAssets(): ConsoleAssets | undefined {
  if (typeof __FLEET_TS_CONSOLE__ === 'object') return __FLEET_TS_CONSOLE__;
  cached ??= fromDist();
  return cached;
}
