// Go's text rules on UTF-8 bytes (unicode.IsSpace, strings.TrimSpace, rune sizes) and the ASCII
// byte codes, shared by the unit-file parser and the glob matcher, which both work on bytes as Go does.

export const LF = 0x0a;
export const CR = 0x0d;
export const BACKSLASH = 0x5c;
export const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACKET = 0x5d;
export const EQUALS = 0x3d;

export const utf8 = new TextEncoder();
// ignoreBOM: a U+FEFF inside a value is text (Go keeps it), not a byte-order mark to drop.
export const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Go's unicode.IsSpace. Differs from JS `\s`: includes U+0085, excludes U+FEFF. */
export function isGoSpace(cp: number): boolean {
  if (cp <= 0xff) {
    return cp === 0x20 || (cp >= 0x09 && cp <= 0x0d) || cp === 0x85 || cp === 0xa0;
  }
  return (
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

/** Go's strings.TrimSpace (every Go space is a single UTF-16 unit, so indexing by unit is safe). */
export function goTrimSpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isGoSpace(s.charCodeAt(start))) start++;
  while (end > start && isGoSpace(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

/** Byte length of the UTF-8 sequence starting with `lead` (input is always valid UTF-8). */
export function runeSize(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  return 2;
}

/** The code point at `pos` of valid UTF-8 (what TextEncoder produced). */
export function runeAt(bytes: Uint8Array, pos: number): number {
  const b0 = bytes[pos] ?? 0;
  const size = runeSize(b0);
  if (size === 1) return b0;
  const b1 = (bytes[pos + 1] ?? 0) & 0x3f;
  if (size === 2) return ((b0 & 0x1f) << 6) | b1;
  const b2 = (bytes[pos + 2] ?? 0) & 0x3f;
  if (size === 3) return ((b0 & 0x0f) << 12) | (b1 << 6) | b2;
  const b3 = (bytes[pos + 3] ?? 0) & 0x3f;
  return ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3;
}

export function utf8ByteLength(s: string): number {
  return utf8.encode(s).length;
}

export function countByte(bytes: Uint8Array, byte: number, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) if (bytes[i] === byte) count++;
  return count;
}
