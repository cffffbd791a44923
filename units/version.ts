// fleet-ts' one version: package.json's. fleetctl, fleetd and the API's Server header all print it.
// The bundles (scripts/package/bundle.mjs) replace __FLEET_TS_VERSION__ at build time; from the source
// tree or dist/ it is read from the package.json above this file.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

declare const __FLEET_TS_VERSION__: string | undefined;

function packageJsonVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'fleet-ts' && pkg.version) return pkg.version;
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

export const FLEET_TS_VERSION: string =
  typeof __FLEET_TS_VERSION__ === 'string' ? __FLEET_TS_VERSION__ : packageJsonVersion();
