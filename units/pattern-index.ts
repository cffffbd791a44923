// Which of many Conflicts=/Replaces= patterns matches a name, without trying every pattern.
//
// Why: validation compared every MachineOf= peer with every pattern (3,000 × 3,000 entries took 50 s
// and froze fleetd). A pattern without glob metacharacters matches only itself, so literals are a map
// lookup; only real globs are tried one by one, and their number times the names is capped.

import { globMatch } from './glob.js';

const META = /[*?[\\]/;

/** Most glob matches one validation may try (MachineOf= entries × wildcard patterns). */
export const MAX_GLOB_CHECKS = 250_000;

export class PatternIndex {
  /** First position of each literal pattern. */
  private readonly literals = new Map<string, number>();
  private readonly globs: { pattern: string; at: number }[] = [];

  constructor(readonly patterns: readonly string[]) {
    patterns.forEach((pattern, at) => {
      if (META.test(pattern)) this.globs.push({ pattern, at });
      else if (!this.literals.has(pattern)) this.literals.set(pattern, at);
    });
  }

  get globCount(): number {
    return this.globs.length;
  }

  /** The first pattern (in the order given) that matches `name`, or undefined. */
  firstMatch(name: string): string | undefined {
    let best = this.literals.get(name) ?? Number.POSITIVE_INFINITY;
    for (const g of this.globs) {
      if (g.at >= best) break;
      if (globMatch(g.pattern, name)) {
        best = g.at;
        break;
      }
    }
    return Number.isFinite(best) ? this.patterns[best] : undefined;
  }
}
