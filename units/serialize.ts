// fleet's unit serialization (go-systemd `unit.Serialize`) and the unit hash derived from it.
// The bytes must match fleet exactly: the hash names the unit in etcd and in `fleetctl list-unit-files`.

import { createHash } from 'node:crypto';
import type { UnitOption } from './types.js';

/**
 * Options grouped by section, sections in first-seen order, options in given order within a section:
 * `[Section]\nName=Value\n...`, a blank line between sections, no trailing blank line.
 * No options gives the empty string.
 */
export function serializeUnit(options: readonly UnitOption[]): string {
  const bySection = new Map<string, UnitOption[]>();
  for (const opt of options) {
    const list = bySection.get(opt.section);
    if (list) list.push(opt);
    else bySection.set(opt.section, [opt]);
  }
  const blocks: string[] = [];
  for (const [section, opts] of bySection) {
    let block = `[${section}]\n`;
    for (const opt of opts) block += `${opt.name}=${opt.value}\n`;
    blocks.push(block);
  }
  return blocks.join('\n');
}

/** SHA1 (40 lowercase hex characters) of the UTF-8 bytes of `serializeUnit(options)`. */
export function unitHash(options: readonly UnitOption[]): string {
  return createHash('sha1').update(serializeUnit(options), 'utf8').digest('hex');
}

/** fleet's short hash: the first 7 characters. */
export function shortHash(hash: string): string {
  return hash.slice(0, 7);
}
