// Wraps a CommonJS bundle in code-cache-loader.cjs: the bundle becomes one string literal that the
// loader compiles with a V8 code cache. V8 only scans a string literal, where it would otherwise
// pre-parse every function of the 1.7 MB program on each start (measured in bench/README.md).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const LOADER = readFileSync(new URL('./code-cache-loader.cjs', import.meta.url), 'utf8');

/** The self-loading file for `source` (a CommonJS bundle, optionally starting with a shebang). */
export function withCodeCache(source, name) {
  const body = source.startsWith('#!') ? source.slice(source.indexOf('\n') + 1) : source;
  // V8 checks a cache against the source's length only, so the file name carries a content hash.
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
  const literal = JSON.stringify(body).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `#!/usr/bin/env node\n"use strict";\n${LOADER}\nrunWithCodeCache(${literal}, ${JSON.stringify(name)}, "${hash}");\n`;
}
