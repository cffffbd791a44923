import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseUnitFile, UnitParseError } from '../../units/parse.js';
import { serializeUnit } from '../../units/serialize.js';
import type { UnitOption } from '../../units/types.js';

const vectors = (
  JSON.parse(readFileSync(new URL('../fixtures/hash-vectors.json', import.meta.url), 'utf8')) as {
    vectors: { input: string }[];
  }
).vectors.map((v) => v.input);

// Characters that steer the lexer, plus ordinary text, multi-byte text and Go/JS whitespace differences.
const SPECIAL = [
  '[',
  ']',
  '\\',
  '=',
  '#',
  ';',
  '\n',
  '\r',
  '\r\n',
  ' ',
  '\t',
  '"',
  '\u00a0',
  '\u0085',
  '\ufeff',
  'é',
  '✓',
  '𝄞',
];
const token = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SPECIAL) },
  {
    weight: 4,
    arbitrary: fc.constantFrom('Unit', 'Service', 'X-Fleet', 'ExecStart', 'MachineOf', 'a', 'b', '1'),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((n) => 'x'.repeat(n)) },
);
const randomFile = fc.array(token, { maxLength: 60 }).map((t) => t.join(''));

// Line-structured files, most of which parse: sections, options (with continuations, quoting, trailing
// backslashes), comments, blank lines; LF or CRLF; with or without a final newline.
const textChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'x', '1', '-', '/', '.', '%i', '@') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(' ', '\t', '"', '=', '#', ';', '[', ']', '\\', 'é', '\u00a0', '\ufeff'),
  },
);
const text = (max: number) => fc.array(textChar, { maxLength: max }).map((c) => c.join(''));
const ws = fc.constantFrom('', ' ', '  ', '\t');
const line = fc.oneof(
  fc.tuple(ws, text(6), ws).map(([a, name, b]) => `${a}[${name.replace(/\]/g, '')}]${b}`),
  fc
    .tuple(ws, text(8), ws, text(20), fc.array(text(12), { maxLength: 3 }), fc.boolean())
    .map(([lead, key, sp, value, conts, endsInBackslash]) => {
      const name = key.replace(/[=\r\n]/g, '') || 'K';
      const body = [value, ...conts].join('\\\n');
      return `${lead}${name}${sp}=${body}${endsInBackslash ? '\\' : ''}`;
    }),
  fc
    .tuple(fc.constantFrom('#', ';', '  #'), text(10), fc.boolean())
    .map(([c, t, k]) => `${c}${t}${k ? ' \\' : ''}`),
  ws,
);
const structuredFile = fc
  .tuple(fc.array(line, { maxLength: 25 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
  .map(([lines, eol, final]) => `[Service]${eol}${lines.join(eol)}${final ? eol : ''}`);

type Mutation =
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; length: number }
  | { op: 'replace'; at: number; text: string };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: token }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), text: token }),
);
const mutatedVector = fc
  .tuple(fc.constantFrom(...vectors), fc.array(mutation, { minLength: 1, maxLength: 6 }))
  .map(([input, mutations]) =>
    mutations.reduce((text, m) => {
      const at = text.length === 0 ? 0 : m.at % (text.length + 1);
      if (m.op === 'insert') return text.slice(0, at) + m.text + text.slice(at);
      if (m.op === 'delete') return text.slice(0, at) + text.slice(at + m.length);
      return text.slice(0, at) + m.text + text.slice(at + m.text.length);
    }, input),
  );

/** Options in the order serializeUnit writes them: grouped by section, first-seen section order. */
function grouped(options: readonly UnitOption[]): UnitOption[] {
  const bySection = new Map<string, UnitOption[]>();
  for (const o of options) bySection.set(o.section, [...(bySection.get(o.section) ?? []), o]);
  return [...bySection.values()].flat();
}

/** The property: only UnitParseError escapes, and a parsed file's serialization is a fixed point. */
function checkFile(text: string): void {
  let options: UnitOption[];
  try {
    options = parseUnitFile(text);
  } catch (err) {
    expect(err).toBeInstanceOf(UnitParseError);
    const e = err as UnitParseError;
    expect(e.line).toBeGreaterThanOrEqual(1);
    expect(e.column).toBeGreaterThanOrEqual(1);
    expect(e.message).toMatch(/^line \d+, column \d+: ./);
    return;
  }
  const serialized = serializeUnit(options);
  const reread = parseUnitFile(serialized);
  expect(reread).toEqual(grouped(options));
  expect(serializeUnit(reread)).toBe(serialized);
}

describe('parseUnitFile under random and mutated input', () => {
  it('random token soup: 4,000 runs', () => {
    fc.assert(
      fc.property(randomFile, (text) => checkFile(text)),
      { numRuns: 4000 },
    );
  });

  it('line-structured files: 5,000 runs, many of which parse to options', () => {
    let withOptions = 0;
    fc.assert(
      fc.property(structuredFile, (text) => {
        checkFile(text);
        try {
          if (parseUnitFile(text).length > 0) withOptions++;
        } catch {
          // counted by checkFile already
        }
      }),
      { numRuns: 5000 },
    );
    // Guards the generator itself: a property over inputs that never parse proves little.
    expect(withOptions).toBeGreaterThan(1500);
  });

  it('mutated hash-vector inputs: 5,000 runs', () => {
    fc.assert(
      fc.property(mutatedVector, (text) => checkFile(text)),
      { numRuns: 5000 },
    );
  });

  it('arbitrary unicode strings: 2,000 runs', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => checkFile(text)),
      {
        numRuns: 2000,
      },
    );
  });
});
