// fleet's API page tokens, byte-compatible so that a client paging through fleet also pages through
// fleet-ts: padded base64url of the little-endian struct {Limit uint16, Page uint16}. Error texts are
// Go's (encoding/base64, encoding/binary) because clients have seen them in fleet's 400 replies.

export interface PageToken {
  readonly limit: number;
  /** 1-based. */
  readonly page: number;
}

export class PageTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PageTokenError';
  }
}

export function encodePageToken(tok: PageToken): string {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(tok.limit & 0xffff, 0);
  b.writeUInt16LE(tok.page & 0xffff, 2);
  return b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** The token of the page after `tok`. */
export const nextPageToken = (tok: PageToken): PageToken => ({ limit: tok.limit, page: tok.page + 1 });

/**
 * Decodes and checks a token as fleet did: wrong limit, page 0, bad base64 or a short token are
 * errors (400). Trailing bytes after the 4 of the struct are ignored, as Go's binary.Read does.
 */
export function decodePageToken(value: string, tokenLimit: number): PageToken {
  const bytes = decodeGoBase64URL(value);
  if (bytes.length === 0) throw new PageTokenError('EOF');
  if (bytes.length < 4) throw new PageTokenError('unexpected EOF');
  const limit = bytes.readUInt16LE(0);
  const page = bytes.readUInt16LE(2);
  if (limit !== tokenLimit) throw new PageTokenError(`token limit must be ${tokenLimit}`);
  if (page === 0) throw new PageTokenError('token page must be greater than zero');
  return { limit, page };
}

/** One page of `all` (already sorted) and whether a next page may follow (fleet: a full page says so). */
export function pageOf<T>(all: readonly T[], tok: PageToken): { items: T[]; next?: PageToken } {
  const start = (tok.page - 1) * tok.limit;
  const stop = tok.page * tok.limit;
  if (start >= all.length) return { items: [] };
  if (stop > all.length) return { items: all.slice(start) };
  return { items: all.slice(start, stop), next: nextPageToken(tok) };
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DECODE = new Map<number, number>([...ALPHABET].map((c, i) => [c.charCodeAt(0), i]));
const PAD = '='.charCodeAt(0);
const isNewline = (c: number | undefined): boolean => c === 0x0a || c === 0x0d;

const corrupt = (at: number): PageTokenError => new PageTokenError(`illegal base64 data at input byte ${at}`);

/**
 * Go's base64.URLEncoding.DecodeString (padded, non-strict), so that a bad token reports the same
 * byte offset fleet reported. Newlines are skipped, as Go does.
 */
export function decodeGoBase64URL(text: string): Buffer {
  const src = Buffer.from(text, 'latin1');
  const out: number[] = [];
  let si = 0;
  for (;;) {
    const dbuf = [0, 0, 0, 0];
    let dlen = 4;
    let done = false;
    for (let j = 0; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return Buffer.from(out);
        throw corrupt(si - j);
      }
      const c = src[si] as number;
      si++;
      const v = DECODE.get(c);
      if (v !== undefined) {
        dbuf[j] = v;
        continue;
      }
      if (isNewline(c)) {
        j--;
        continue;
      }
      if (c !== PAD) throw corrupt(si - 1);
      // Padding: only after two or three symbols.
      if (j < 2) throw corrupt(si - 1);
      if (j === 2) {
        while (si < src.length && isNewline(src[si])) si++;
        if (si === src.length) throw corrupt(src.length);
        if (src[si] !== PAD) throw corrupt(si - 1);
        si++;
      }
      while (si < src.length && isNewline(src[si])) si++;
      if (si < src.length) throw corrupt(si);
      dlen = j;
      done = true;
      break;
    }
    const val =
      ((dbuf[0] as number) << 18) |
      ((dbuf[1] as number) << 12) |
      ((dbuf[2] as number) << 6) |
      (dbuf[3] as number);
    const bytes = [(val >> 16) & 0xff, (val >> 8) & 0xff, val & 0xff];
    out.push(...bytes.slice(0, dlen - 1));
    if (done) return Buffer.from(out);
  }
}
