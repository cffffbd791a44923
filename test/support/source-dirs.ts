// The product's source folders, read from tsconfig.json's "include" so that a new top-level layer is
// listed once: dist/ freshness checks (e2e, bench) walk these.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const tsconfig = JSON.parse(readFileSync(join(import.meta.dirname, '../../tsconfig.json'), 'utf8')) as {
  include: string[];
};

export const SOURCE_DIRS: readonly string[] = tsconfig.include;
