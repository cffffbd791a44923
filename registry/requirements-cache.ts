// Unit contents are addressed by their hash, so their [X-Fleet] requirements are parsed once per hash:
// 10k instances of one template were 10k parses (0.6 s of the engine's CPU at 10k units), and sharing
// one requirements object lets the planner cache its verdicts per object (engine/scheduler.ts).

import { parseUnitFile } from '../units/parse.js';
import type { Requirements } from '../units/types.js';
import { parseRequirements } from '../units/xfleet.js';

/** Bounded: a registry with more distinct contents than this just parses more often. */
const MAX_ENTRIES = 10_000;

export function requirementsCache(): (hash: string, text: string) => Requirements {
  const byHash = new Map<string, Requirements>();
  return (hash, text) => {
    let req = byHash.get(hash);
    if (!req) {
      if (byHash.size >= MAX_ENTRIES) byHash.clear();
      req = parseRequirements(parseUnitFile(text));
      byHash.set(hash, req);
    }
    return req;
  };
}
