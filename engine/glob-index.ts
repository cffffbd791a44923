// Finds which of many glob patterns match a unit name without trying every pattern.
// Design notes: docs/architecture.md, "engine/glob-index.ts".

import { globMatch } from '../units/glob.js';

const META = /[*?[\\]/;

/** True when `pattern` uses Go path.Match syntax; a pattern without metacharacters matches only itself. */
export function isGlob(pattern: string): boolean {
  return META.test(pattern);
}

function literalPrefix(pattern: string): string {
  const i = pattern.search(META);
  return i < 0 ? pattern : pattern.slice(0, i);
}

/** globMatch that treats a malformed pattern as matching nothing: the planner never throws on input. */
export function safeGlobMatch(pattern: string, name: string): boolean {
  try {
    return globMatch(pattern, name);
  } catch {
    return false;
  }
}

export class GlobIndex {
  private readonly ids = new Map<string, number>();
  private readonly patterns: string[] = [];
  private readonly byPrefix = new Map<string, number[]>();
  private longestPrefix = 0;

  /** Registers a pattern (idempotent) and returns its id. */
  add(pattern: string): number {
    const known = this.ids.get(pattern);
    if (known !== undefined) return known;
    const id = this.patterns.length;
    this.patterns.push(pattern);
    this.ids.set(pattern, id);
    const prefix = literalPrefix(pattern);
    const bucket = this.byPrefix.get(prefix);
    if (bucket) bucket.push(id);
    else this.byPrefix.set(prefix, [id]);
    if (prefix.length > this.longestPrefix) this.longestPrefix = prefix.length;
    return id;
  }

  get size(): number {
    return this.patterns.length;
  }

  pattern(id: number): string {
    return this.patterns[id] ?? '';
  }

  /** Ids of the registered patterns that match `name`. */
  matching(name: string): number[] {
    const out: number[] = [];
    if (this.patterns.length === 0) return out;
    const limit = Math.min(name.length, this.longestPrefix);
    for (let len = 0; len <= limit; len++) {
      const bucket = this.byPrefix.get(name.slice(0, len));
      if (!bucket) continue;
      for (const id of bucket) {
        if (safeGlobMatch(this.patterns[id] ?? '', name)) out.push(id);
      }
    }
    return out;
  }
}
