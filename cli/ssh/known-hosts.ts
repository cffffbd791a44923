// known_hosts in OpenSSH format, as pure functions: parse the text, match a host against an entry,
// and decide whether an offered host key is known, unknown, changed or revoked.
// Design notes: docs/architecture.md, "cli/ssh/known-hosts.ts".

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface KnownHostEntry {
  /** 1-based line number in its file, for error messages. */
  readonly line: number;
  readonly marker?: 'revoked' | 'cert-authority';
  /** Plain entries: comma-separated patterns, split. Empty for hashed entries. */
  readonly patterns: readonly string[];
  /** Hashed entries (`|1|salt|hash`). */
  readonly hashed?: { readonly salt: Buffer; readonly hash: Buffer };
  readonly keyType: string;
  /** The public key blob (SSH wire format), as base64-decoded from the line. */
  readonly keyBlob: Buffer;
}

export interface KnownHostsProblem {
  readonly line: number;
  readonly reason: string;
}

export interface ParsedKnownHosts {
  readonly entries: readonly KnownHostEntry[];
  /** Lines that were skipped; the caller may warn about them. */
  readonly problems: readonly KnownHostsProblem[];
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Read the key type string that starts an SSH public key blob (`ssh-ed25519`, ...). */
export function keyTypeOfBlob(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  return blob.subarray(4, 4 + len).toString('latin1');
}

export function parseKnownHosts(text: string): ParsedKnownHosts {
  const entries: KnownHostEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = (lines[i] ?? '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else {
        problems.push({ line: lineNo, reason: `unknown marker ${m}` });
        continue;
      }
    }
    const [hosts, keyType, b64] = fields;
    if (hosts === undefined || keyType === undefined || b64 === undefined) {
      problems.push({ line: lineNo, reason: 'expected "hosts keytype base64-key"' });
      continue;
    }
    if (!BASE64.test(b64)) {
      problems.push({ line: lineNo, reason: 'key is not valid base64' });
      continue;
    }
    const keyBlob = Buffer.from(b64, 'base64');
    if (keyTypeOfBlob(keyBlob) !== keyType) {
      problems.push({ line: lineNo, reason: `key data does not hold a ${keyType} key` });
      continue;
    }
    if (hosts.startsWith('|')) {
      const parts = hosts.split('|');
      // ['', '1', salt, hash]
      if (parts.length !== 4 || parts[1] !== '1' || !parts[2] || !parts[3]) {
        problems.push({ line: lineNo, reason: 'unsupported hashed host format (expected |1|salt|hash)' });
        continue;
      }
      const salt = Buffer.from(parts[2], 'base64');
      const hash = Buffer.from(parts[3], 'base64');
      if (salt.length !== 20 || hash.length !== 20) {
        problems.push({ line: lineNo, reason: 'hashed host has a bad salt or hash length' });
        continue;
      }
      entries.push({ line: lineNo, marker, patterns: [], hashed: { salt, hash }, keyType, keyBlob });
      continue;
    }
    entries.push({ line: lineNo, marker, patterns: hosts.split(','), keyType, keyBlob });
  }
  return { entries, problems };
}

/** The name a host is looked up and stored under: `host` on port 22, `[host]:port` otherwise. */
export function hostLookupName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** OpenSSH glob: `*` matches any run of characters, `?` exactly one. Case-insensitive. */
export function globMatch(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const s = name.toLowerCase();
  // Iterative wildcard matching with single backtrack point: linear in practice, no regex escaping.
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === s[si])) {
      pi++;
      si++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = si;
    } else if (star !== -1) {
      pi = star + 1;
      si = ++mark;
    } else return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/**
 * A comma-separated pattern list matches when some positive pattern matches and no negated one
 * does: a `!pattern` hit vetoes the whole line, whatever else matched (OpenSSH semantics).
 */
export function matchHostPatterns(patterns: readonly string[], name: string): boolean {
  let positive = false;
  for (const pat of patterns) {
    if (pat.startsWith('!')) {
      if (globMatch(pat.slice(1), name)) return false;
    } else if (globMatch(pat, name)) positive = true;
  }
  return positive;
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, the OpenSSH hashed form of a lookup name. */
export function hashHostName(name: string, salt: Buffer): string {
  const hash = createHmac('sha1', salt).update(name.toLowerCase()).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
}

export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) {
    const h = createHmac('sha1', entry.hashed.salt).update(name.toLowerCase()).digest();
    return timingSafeEqual(h, entry.hashed.hash);
  }
  return matchHostPatterns(entry.patterns, name);
}

/** OpenSSH-style fingerprint: `SHA256:` + unpadded base64 of the SHA-256 of the key blob. */
export function keyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The short algorithm name OpenSSH prints (`ED25519`, `RSA`, `ECDSA`). */
export function displayKeyType(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ED25519';
  if (keyType === 'ssh-rsa') return 'RSA';
  if (keyType === 'ssh-dss') return 'DSA';
  if (keyType.startsWith('ecdsa-sha2-')) return 'ECDSA';
  if (keyType.startsWith('sk-ssh-ed25519')) return 'ED25519-SK';
  if (keyType.startsWith('sk-ecdsa-')) return 'ECDSA-SK';
  return keyType;
}

export type HostKeyVerdict =
  | { readonly kind: 'known'; readonly entry: KnownHostEntry }
  | { readonly kind: 'revoked'; readonly entry: KnownHostEntry }
  /**
   * The host is recorded with a different key: of the same type, or (`typeChanged`) only with keys of
   * other types. OpenSSH asks again when only the type differs; a man-in-the-middle that offers a type
   * the real host never had would then get a first-contact prompt, so both are a change here.
   */
  | { readonly kind: 'changed'; readonly entry: KnownHostEntry; readonly typeChanged: boolean }
  /** The host is not recorded at all. */
  | { readonly kind: 'unknown' };

/**
 * Decide about the key `blob` offered by `host:port`. A key revoked for the host loses over everything; an exact
 * match is known; a different key recorded for the host, of the same type or another, is a change.
 * `@cert-authority` lines are ignored: host certificates are not supported.
 */
export function checkHostKey(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  blob: Buffer,
): HostKeyVerdict {
  const name = hostLookupName(host, port);
  const keyType = keyTypeOfBlob(blob) ?? '';
  const forHost = entries.filter((e) => entryMatchesHost(e, name));
  const revoked = forHost.find((e) => e.marker === 'revoked' && e.keyBlob.equals(blob));
  if (revoked) return { kind: 'revoked', entry: revoked };
  const matching = forHost.filter((e) => e.marker === undefined);
  const exact = matching.find((e) => e.keyBlob.equals(blob));
  if (exact) return { kind: 'known', entry: exact };
  const sameType = matching.find((e) => e.keyType === keyType);
  if (sameType) return { kind: 'changed', entry: sameType, typeChanged: false };
  const other = matching[0];
  if (other) return { kind: 'changed', entry: other, typeChanged: true };
  return { kind: 'unknown' };
}

/** Key types recorded for host:port (not revoked, not @cert-authority), in file order. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  const name = hostLookupName(host, port);
  const types = entries
    .filter((e) => e.marker === undefined && entryMatchesHost(e, name))
    .map((e) => e.keyType);
  return [...new Set(types)];
}

/**
 * The host key algorithms that negotiate a key of the given types, to be preferred in the handshake
 * (as OpenSSH does): a host that has the recorded key type then offers that one, and only a host
 * without it (another host, a man-in-the-middle) offers something else, which fails as a change.
 */
export function hostKeyAlgorithmsFor(keyTypes: readonly string[]): string[] {
  return keyTypes.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
}

/** The line recorded for a newly accepted host: `name keytype base64`. */
export function formatKnownHostLine(host: string, port: number, blob: Buffer): string {
  const keyType = keyTypeOfBlob(blob);
  if (!keyType) throw new Error('not an SSH public key blob');
  return `${hostLookupName(host, port)} ${keyType} ${blob.toString('base64')}`;
}
