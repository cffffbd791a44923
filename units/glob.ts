// Go's path.Match, which fleet uses for Conflicts and Replaces patterns. Works on UTF-8 bytes like
// Go: literals compare bytes, `?` and classes consume one character. A malformed pattern never
// matches (Go returns ErrBadPattern, which fleet treats as "no match").

import { BACKSLASH, CLOSE_BRACKET as CLOSE, OPEN_BRACKET as OPEN, utf8 } from './go-text.js';

const SLASH = 0x2f;
const STAR = 0x2a;
const CARET = 0x5e;
const DASH = 0x2d;
const QUESTION = 0x3f;
const RUNE_ERROR = 0xfffd;

class BadPattern extends Error {}

/** Does `name` match the whole of `pattern`? `*` and `?` never match `/`. */
export function globMatch(pattern: string, name: string): boolean {
  try {
    return match(utf8.encode(pattern), utf8.encode(name));
  } catch (err) {
    if (err instanceof BadPattern) return false;
    throw err;
  }
}

/** Is the pattern well-formed (would Go's path.Match accept it)? */
export function isValidGlob(pattern: string): boolean {
  try {
    // Matching the empty name walks every chunk of the pattern, so it throws iff malformed.
    match(utf8.encode(pattern), new Uint8Array(0));
    return true;
  } catch (err) {
    if (err instanceof BadPattern) return false;
    throw err;
  }
}

function match(patternIn: Uint8Array, nameIn: Uint8Array): boolean {
  let pattern = patternIn;
  let name = nameIn;
  nextChunk: while (pattern.length > 0) {
    const { star, chunk, rest } = scanChunk(pattern);
    pattern = rest;
    if (star && chunk.length === 0) {
      // Trailing `*` matches the rest unless it holds a `/`.
      return !name.includes(SLASH);
    }
    const here = matchChunk(chunk, name);
    // The last chunk must use up the name; otherwise a star may still match further on.
    if (here !== null && (here.length === 0 || pattern.length > 0)) {
      name = here;
      continue;
    }
    if (star) {
      for (let i = 0; i < name.length && name[i] !== SLASH; i++) {
        const t = matchChunk(chunk, name.subarray(i + 1));
        if (t !== null) {
          if (pattern.length === 0 && t.length > 0) continue;
          name = t;
          continue nextChunk;
        }
      }
    }
    // No match: still report a malformed remainder, as Go does.
    while (pattern.length > 0) {
      const next = scanChunk(pattern);
      matchChunk(next.chunk, new Uint8Array(0));
      pattern = next.rest;
    }
    return false;
  }
  return name.length === 0;
}

/** The next run of non-star pattern, possibly preceded by stars. */
function scanChunk(patternIn: Uint8Array): { star: boolean; chunk: Uint8Array; rest: Uint8Array } {
  let pattern = patternIn;
  let star = false;
  while (pattern.length > 0 && pattern[0] === STAR) {
    pattern = pattern.subarray(1);
    star = true;
  }
  let inRange = false;
  for (let i = 0; i < pattern.length; i++) {
    switch (pattern[i]) {
      case BACKSLASH:
        if (i + 1 < pattern.length) i++;
        break;
      case OPEN:
        inRange = true;
        break;
      case CLOSE:
        inRange = false;
        break;
      case STAR:
        if (!inRange) return { star, chunk: pattern.subarray(0, i), rest: pattern.subarray(i) };
        break;
    }
  }
  return { star, chunk: pattern, rest: new Uint8Array(0) };
}

/**
 * Match `chunk` against the start of `s`; the rest of `s`, or null when it does not match.
 * Keeps scanning the chunk after a mismatch so that a malformed chunk always throws.
 */
function matchChunk(chunkIn: Uint8Array, sIn: Uint8Array): Uint8Array | null {
  let chunk = chunkIn;
  let s = sIn;
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const c = chunk[0];
    if (c === OPEN) {
      let r = 0;
      if (!failed) {
        const [cp, n] = decodeRune(s);
        r = cp;
        s = s.subarray(n);
      }
      chunk = chunk.subarray(1);
      let negated = false;
      if (chunk.length > 0 && chunk[0] === CARET) {
        negated = true;
        chunk = chunk.subarray(1);
      }
      let matched = false;
      let nrange = 0;
      for (;;) {
        if (chunk.length > 0 && chunk[0] === CLOSE && nrange > 0) {
          chunk = chunk.subarray(1);
          break;
        }
        const lo = getEsc(chunk);
        chunk = lo.rest;
        let hi = lo.r;
        if (chunk[0] === DASH) {
          const h = getEsc(chunk.subarray(1));
          hi = h.r;
          chunk = h.rest;
        }
        if (lo.r <= r && r <= hi) matched = true;
        nrange++;
      }
      if (matched === negated) failed = true;
    } else if (c === QUESTION) {
      if (!failed) {
        if (s[0] === SLASH) failed = true;
        s = s.subarray(decodeRune(s)[1]);
      }
      chunk = chunk.subarray(1);
    } else {
      if (c === BACKSLASH) {
        chunk = chunk.subarray(1);
        if (chunk.length === 0) throw new BadPattern();
      }
      if (!failed) {
        if (chunk[0] !== s[0]) failed = true;
        s = s.subarray(1);
      }
      chunk = chunk.subarray(1);
    }
  }
  return failed ? null : s;
}

/** A possibly escaped character of a class; the chunk must go on after it. */
function getEsc(chunkIn: Uint8Array): { r: number; rest: Uint8Array } {
  let chunk = chunkIn;
  if (chunk.length === 0 || chunk[0] === DASH || chunk[0] === CLOSE) throw new BadPattern();
  if (chunk[0] === BACKSLASH) {
    chunk = chunk.subarray(1);
    if (chunk.length === 0) throw new BadPattern();
  }
  const [r, n] = decodeRune(chunk);
  if (r === RUNE_ERROR && n === 1) throw new BadPattern();
  const rest = chunk.subarray(n);
  if (rest.length === 0) throw new BadPattern();
  return { r, rest };
}

/** Go's utf8.DecodeRune: [rune, size]; invalid or truncated input gives [U+FFFD, 1]. */
function decodeRune(b: Uint8Array): [number, number] {
  const b0 = b[0];
  if (b0 === undefined) return [RUNE_ERROR, 0];
  if (b0 < 0x80) return [b0, 1];
  const size = b0 >= 0xf0 && b0 < 0xf8 ? 4 : b0 >= 0xe0 ? 3 : b0 >= 0xc2 && b0 < 0xe0 ? 2 : 0;
  if (size === 0 || b.length < size) return [RUNE_ERROR, 1];
  let cp = b0 & (size === 2 ? 0x1f : size === 3 ? 0x0f : 0x07);
  for (let i = 1; i < size; i++) {
    const bi = b[i] ?? 0;
    if ((bi & 0xc0) !== 0x80) return [RUNE_ERROR, 1];
    cp = (cp << 6) | (bi & 0x3f);
  }
  return [cp, size];
}
