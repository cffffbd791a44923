import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseUnitFile } from '../../units/parse.js';
import { serializeUnit, shortHash, unitHash } from '../../units/serialize.js';
import type { UnitOption } from '../../units/types.js';

interface HashVector {
  name: string;
  input: string;
  sha1: string;
  serialized: string;
}

const FIXTURE = new URL('../fixtures/hash-vectors.json', import.meta.url);
const SHARED = new URL('../../../shared/reference/hash-vectors.json', import.meta.url);
const fixtureText = readFileSync(FIXTURE, 'utf8');
const vectors = (JSON.parse(fixtureText) as { vectors: HashVector[] }).vectors;

describe('fleet 1.0 hash vectors', () => {
  it('the copy in test/fixtures is the shared reference file (when the reference is present)', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(10);
    if (existsSync(fileURLToPath(SHARED))) {
      expect(readFileSync(SHARED, 'utf8')).toBe(fixtureText);
    }
  });

  it.each(vectors.map((v) => [v.name, v] as const))(
    '%s: serialized form and sha1 match fleet',
    (_name, v) => {
      const options = parseUnitFile(v.input);
      expect(serializeUnit(options)).toBe(v.serialized);
      expect(unitHash(options)).toBe(v.sha1);
      // fleet re-reads the stored serialized text: it must give the same hash again.
      expect(unitHash(parseUnitFile(v.serialized))).toBe(v.sha1);
    },
  );
});

describe('serializeUnit', () => {
  const opt = (section: string, name: string, value: string): UnitOption => ({ section, name, value });

  it('gives the empty string for no options', () => {
    expect(serializeUnit([])).toBe('');
    expect(unitHash([])).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
  });

  it('groups by section in first-seen order, blank line between sections, one final newline', () => {
    expect(
      serializeUnit([
        opt('Unit', 'A', '1'),
        opt('Service', 'B', '2'),
        opt('Unit', 'C', '3'),
        opt('X-Fleet', 'D', ''),
      ]),
    ).toBe('[Unit]\nA=1\nC=3\n\n[Service]\nB=2\n\n[X-Fleet]\nD=\n');
  });

  it('writes values verbatim, continuation newlines included', () => {
    expect(serializeUnit([opt('S', 'ExecStart', 'a \\\n  b')])).toBe('[S]\nExecStart=a \\\n  b\n');
  });

  it('hashes the fleet unit-test example and shortens to 7 characters', () => {
    const hash = unitHash([opt('Service', 'ExecStart', '/bin/sleep 100')]);
    expect(hash).toBe('1c6fb6f3684bafb0c173d8b8b957ceff031180c1');
    expect(shortHash(hash)).toBe('1c6fb6f');
  });

  it('hashes the UTF-8 bytes of the serialized text', () => {
    const bytes = Buffer.from('[S]\nA=é\n', 'utf8');
    expect(unitHash([opt('S', 'A', 'é')])).toBe(createHash('sha1').update(bytes).digest('hex'));
    expect(unitHash([opt('S', 'A', 'é')])).not.toBe(unitHash([opt('S', 'A', 'e')]));
  });
});
