// Specifier expansion in [X-Fleet] values, as fleet's `unitPrintf` does it: plain, sequential string
// replacement of %n, %N, %p, %i (in that order) with parts of the unit's own name. No escaping:
// `%%` is left as is (so `%%n` still expands its `%n`), like fleet.

import { parseUnitName } from './names.js';

export function expandSpecifiers(value: string, unitName: string): string {
  // fleet skips expansion when the name has no "." (NewUnitNameInfo returns nil).
  if (!unitName.includes('.')) return value;
  const info = parseUnitName(unitName);
  return value
    .replaceAll('%n', () => unitName) // functions, so that `$` in a name is not a replacement pattern
    .replaceAll('%N', () => info.name)
    .replaceAll('%p', () => info.prefix)
    .replaceAll('%i', () => info.instance);
}
