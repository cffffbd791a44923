// known_hosts parsing and matching. Vectors (keys, fingerprints, the hashed line) were produced
// with OpenSSH 9.2's ssh-keygen (-t, -lf, -H), so these tests check compatibility with OpenSSH.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkHostKey,
  displayKeyType,
  entryMatchesHost,
  formatKnownHostLine,
  globMatch,
  hashHostName,
  hostKeyAlgorithmsFor,
  hostLookupName,
  keyFingerprint,
  keyTypeOfBlob,
  knownKeyTypes,
  matchHostPatterns,
  parseKnownHosts,
} from '../../cli/ssh/known-hosts.js';

const ED = 'AAAAC3NzaC1lZDI1NTE5AAAAIDJ5JpG18h/Sr7FnFbWUHAu6ud3cWykLsLio08L0HNel';
const ED_FP = 'SHA256:myxb5IDMrmDDQIeqijE7eWRePMSVn7GBXWPxU+5mOzI';
const RSA =
  'AAAAB3NzaC1yc2EAAAADAQABAAABAQCRMkNPpDk6WbOD8oymQcJgrqs+f/SX1bNDoNYqEcUQrZ/rcui96BO1lpBeReWE1yqpkYeqXNVYkasPBENOXy2JyM0xfU1S3M2MHkRKrQGpyUIT3vFD1RU98Qdtu1voUCEegOZi/a5R5JKU+5IUi7qnkcl8o4NaFOhSJEF9gShYt0CeUdaBJsfuR6ufMeszsYhg6L4QWvIpEh+CjdjSaxhMN2iAUcxjRUVPNWvtYz1Ygm+4r/iAsx4xtBrsVGC6H4Ur0u3dG4GwHHZl2EQMguoZFnXUTjc/EI6gY9uJt8RI3M+TImODJSstK2iE+Ri3F//f3nSfujonWNhMvtiB+WUb';
const RSA_FP = 'SHA256:ZHEFZmjLHBCV/quMATLPWNYVQjmpPmsTLdKR+mHX4GM';
/** `ssh-keygen -H` of `[127.0.0.1]:2222 ssh-ed25519 ED`. */
const HASHED_LINE = `|1|6Li3/zjdll5dNST+kmoFE3O7Icw=|b31pXbt5o2EmfILveaOOGC0kYgU= ssh-ed25519 ${ED}`;

const edBlob = Buffer.from(ED, 'base64');
const rsaBlob = Buffer.from(RSA, 'base64');

/** A syntactically valid ssh-ed25519 blob with random key bytes. */
function randomEd25519Blob(): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const b = Buffer.alloc(4 + type.length + 4 + 32);
  b.writeUInt32BE(type.length, 0);
  type.copy(b, 4);
  b.writeUInt32BE(32, 4 + type.length);
  randomBytes(32).copy(b, 8 + type.length);
  return b;
}

describe('key blobs and fingerprints', () => {
  it('reads the key type from the blob', () => {
    expect(keyTypeOfBlob(edBlob)).toBe('ssh-ed25519');
    expect(keyTypeOfBlob(rsaBlob)).toBe('ssh-rsa');
    expect(keyTypeOfBlob(Buffer.from([0, 0]))).toBeUndefined();
  });

  it('computes the same SHA256 fingerprint as ssh-keygen -lf', () => {
    expect(keyFingerprint(edBlob)).toBe(ED_FP);
    expect(keyFingerprint(rsaBlob)).toBe(RSA_FP);
  });

  it('names key types the way OpenSSH prints them', () => {
    expect(displayKeyType('ssh-ed25519')).toBe('ED25519');
    expect(displayKeyType('ssh-rsa')).toBe('RSA');
    expect(displayKeyType('ecdsa-sha2-nistp256')).toBe('ECDSA');
  });
});

describe('parseKnownHosts', () => {
  it('reads plain, bracketed, hashed and marked entries, skipping comments and blank lines', () => {
    const text = [
      '# a comment',
      '',
      `10.0.0.1,node1.example ssh-ed25519 ${ED} a comment`,
      `[10.0.0.2]:2222 ssh-rsa ${RSA}`,
      HASHED_LINE,
      `@revoked * ssh-rsa ${RSA}`,
      `@cert-authority *.example ssh-ed25519 ${ED}`,
    ].join('\n');
    const { entries, problems } = parseKnownHosts(text);
    expect(problems).toEqual([]);
    expect(entries.map((e) => [e.line, e.marker, e.patterns, e.keyType, e.hashed !== undefined])).toEqual([
      [3, undefined, ['10.0.0.1', 'node1.example'], 'ssh-ed25519', false],
      [4, undefined, ['[10.0.0.2]:2222'], 'ssh-rsa', false],
      [5, undefined, [], 'ssh-ed25519', true],
      [6, 'revoked', ['*'], 'ssh-rsa', false],
      [7, 'cert-authority', ['*.example'], 'ssh-ed25519', false],
    ]);
  });

  it('reports malformed lines with their line numbers and keeps the good ones', () => {
    const text = [
      `good ssh-ed25519 ${ED}`,
      'onlyhost',
      'h ssh-ed25519 not*base64',
      `h ssh-rsa ${ED}`,
      `|2|abc|def ssh-ed25519 ${ED}`,
      `@weird h ssh-ed25519 ${ED}`,
    ].join('\n');
    const { entries, problems } = parseKnownHosts(text);
    expect(entries).toHaveLength(1);
    expect(problems.map((p) => p.line)).toEqual([2, 3, 4, 5, 6]);
    expect(problems[2]?.reason).toBe('key data does not hold a ssh-rsa key');
  });
});

describe('host name matching', () => {
  it('uses [host]:port for ports other than 22', () => {
    expect(hostLookupName('10.0.0.1', 22)).toBe('10.0.0.1');
    expect(hostLookupName('Node1.Example', 2222)).toBe('[node1.example]:2222');
  });

  it('matches * and ? globs case-insensitively', () => {
    expect(globMatch('10.0.0.*', '10.0.0.17')).toBe(true);
    expect(globMatch('10.0.0.?', '10.0.0.17')).toBe(false);
    expect(globMatch('10.0.0.??', '10.0.0.17')).toBe(true);
    expect(globMatch('*.EXAMPLE', 'node.example')).toBe(true);
    expect(globMatch('a*b*c', 'axxbyyc')).toBe(true);
    expect(globMatch('a*b*c', 'axxbyy')).toBe(false);
    expect(globMatch('[10.0.0.1]:*', '[10.0.0.1]:2222')).toBe(true);
    expect(globMatch('10.0.0.1', '10.0.0.10')).toBe(false);
  });

  it('treats a matching negated pattern as a veto over the whole line', () => {
    expect(matchHostPatterns(['10.0.0.*', '!10.0.0.5'], '10.0.0.4')).toBe(true);
    expect(matchHostPatterns(['10.0.0.*', '!10.0.0.5'], '10.0.0.5')).toBe(false);
    expect(matchHostPatterns(['!10.0.0.5'], '10.0.0.4')).toBe(false);
  });

  it('glob matching agrees with an independent regular-expression model', () => {
    const alphabet = fc.constantFrom('a', 'b', '.', '*', '?');
    fc.assert(
      fc.property(
        fc.string({ unit: alphabet, maxLength: 8 }),
        fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength: 10 }),
        (pat, name) => {
          const re = new RegExp(
            `^${pat.replace(/\./g, '\\.').replace(/\*/g, '.*').replace(/\?/g, '.')}$`,
            's',
          );
          expect(globMatch(pat, name)).toBe(re.test(name));
        },
      ),
    );
  });

  it('matches a hashed entry written by ssh-keygen -H only for its own name', () => {
    const entry = parseKnownHosts(HASHED_LINE).entries[0]!;
    expect(entryMatchesHost(entry, '[127.0.0.1]:2222')).toBe(true);
    expect(entryMatchesHost(entry, '127.0.0.1')).toBe(false);
    expect(entryMatchesHost(entry, '[127.0.0.1]:2223')).toBe(false);
  });

  it('hashHostName produces entries that match the hashed name', () => {
    fc.assert(
      fc.property(fc.domain(), fc.integer({ min: 1, max: 65535 }), (host, port) => {
        const name = hostLookupName(host, port);
        const line = `${hashHostName(name, randomBytes(20))} ssh-ed25519 ${ED}`;
        const entry = parseKnownHosts(line).entries[0]!;
        expect(entryMatchesHost(entry, name)).toBe(true);
        expect(entryMatchesHost(entry, hostLookupName(host, port === 22 ? 23 : 22))).toBe(false);
      }),
      { numRuns: 50 },
    );
  });
});

describe('checkHostKey', () => {
  const file = [
    `10.0.0.1 ssh-ed25519 ${ED}`,
    `[10.0.0.1]:2222 ssh-rsa ${RSA}`,
    `10.0.1.*,!10.0.1.9 ssh-ed25519 ${ED}`,
  ].join('\n');
  const { entries } = parseKnownHosts(file);

  it('knows a recorded key', () => {
    const v = checkHostKey(entries, '10.0.0.1', 22, edBlob);
    expect(v.kind).toBe('known');
    expect(v.kind === 'known' && v.entry.line).toBe(1);
  });

  it('keeps ports apart: the port-22 key does not vouch for port 2222', () => {
    expect(checkHostKey(entries, '10.0.0.1', 2222, rsaBlob).kind).toBe('known');
    expect(checkHostKey(entries, '10.0.0.99', 2222, edBlob)).toEqual({ kind: 'unknown' });
  });

  it('a host recorded only with another key type offering a new type is a change, not a first contact', () => {
    // [10.0.0.1]:2222 is recorded with an RSA key only; a man-in-the-middle offers ED25519.
    const v = checkHostKey(entries, '10.0.0.1', 2222, edBlob);
    expect(v).toMatchObject({ kind: 'changed', typeChanged: true });
    expect(v.kind === 'changed' && v.entry.keyType).toBe('ssh-rsa');
    expect(knownKeyTypes(entries, '10.0.0.1', 2222)).toEqual(['ssh-rsa']);
    expect(hostKeyAlgorithmsFor(['ssh-rsa', 'ssh-ed25519'])).toEqual([
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
      'ssh-ed25519',
    ]);
  });

  it('reports a different key of the same type as changed, with the recorded line', () => {
    const v = checkHostKey(entries, '10.0.0.1', 22, randomEd25519Blob());
    expect(v).toMatchObject({ kind: 'changed', typeChanged: false });
    expect(v.kind === 'changed' && v.entry.line).toBe(1);
  });

  it('applies globs and negation', () => {
    expect(checkHostKey(entries, '10.0.1.3', 22, edBlob).kind).toBe('known');
    expect(checkHostKey(entries, '10.0.1.9', 22, edBlob)).toEqual({ kind: 'unknown' });
  });

  it('refuses a key revoked for the host even when it is also recorded as known', () => {
    const withRevoked = parseKnownHosts(`${file}\n@revoked 10.0.0.1 ssh-ed25519 ${ED}`).entries;
    const v = checkHostKey(withRevoked, '10.0.0.1', 22, edBlob);
    expect(v.kind).toBe('revoked');
    expect(v.kind === 'revoked' && v.entry.line).toBe(4);
  });

  it('ignores @cert-authority lines (certificates are not supported)', () => {
    const ca = parseKnownHosts(`@cert-authority * ssh-ed25519 ${ED}`).entries;
    expect(checkHostKey(ca, '10.9.9.9', 22, edBlob)).toEqual({ kind: 'unknown' });
  });

  it('a recorded line is known afterwards, and any other key of that type is a change', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 1, max: 65535 }), (host, port) => {
        const blob = randomEd25519Blob();
        const recorded = parseKnownHosts(formatKnownHostLine(host, port, blob)).entries;
        expect(checkHostKey(recorded, host, port, blob).kind).toBe('known');
        expect(checkHostKey(recorded, host, port, randomEd25519Blob()).kind).toBe('changed');
      }),
      { numRuns: 100 },
    );
  });

  it('formats new lines the way OpenSSH records them', () => {
    expect(formatKnownHostLine('127.0.0.1', 2222, edBlob)).toBe(`[127.0.0.1]:2222 ssh-ed25519 ${ED}`);
    expect(formatKnownHostLine('10.0.0.1', 22, rsaBlob)).toBe(`10.0.0.1 ssh-rsa ${RSA}`);
  });
});
