// Heavy unit files: parsing and [X-Fleet] validation stay linear, oversized files are refused with a
// one-line error that says where. Before the fix each of the big cases below ran for minutes (the
// parser copied every continuation line so far; validation tried every MachineOf × Conflicts pair),
// so they fail on that code by the suite's 30 s timeout; the timings themselves are in
// bench/hostile-input.ts, not here.
import { describe, expect, it } from 'vitest';
import { parseUnitFile, UNIT_FILE_MAX_BYTES, UnitParseError } from '../../units/parse.js';
import { MAX_GLOB_CHECKS } from '../../units/pattern-index.js';
import type { UnitOption } from '../../units/types.js';
import { parseRequirements, validateOptions } from '../../units/xfleet.js';

const xf = (name: string, value: string): UnitOption => ({ section: 'X-Fleet', name, value });
const service: UnitOption = { section: 'Service', name: 'ExecStart', value: '/bin/true' };

describe('continuation lines', () => {
  it('a value of 100,000 continuation lines parses to the joined value', () => {
    const n = 100_000;
    const text = `[Service]\nExecStart=/bin/echo \\\n${'x \\\n'.repeat(n)}end\n`;
    const [opt, ...rest] = parseUnitFile(text);
    expect(rest).toEqual([]);
    expect(opt?.name).toBe('ExecStart');
    expect(opt?.value.split('\n')).toHaveLength(n + 2);
    expect(opt?.value.endsWith('x \\\nend')).toBe(true);
  });

  it('a comment continued over 50,000 lines, then 10,000 short values', () => {
    const text = `[Service]\n${'# c \\\n'.repeat(50_000)}end\n${'Environment=A=1\n'.repeat(10_000)}`;
    expect(parseUnitFile(text)).toHaveLength(10_000);
  });
});

describe('size cap', () => {
  it(`a unit file of ${UNIT_FILE_MAX_BYTES} bytes parses; one byte more is refused on one line with a position`, () => {
    const head = '[Service]\nExecStart=/bin/true\n';
    // Comment lines of 100 bytes, then one shorter line to reach the size.
    const body = (size: number) => {
      const fill = size - head.length;
      const full = Math.floor(fill / 100);
      return `${head}${`${'#'.repeat(99)}\n`.repeat(full)}${'#'.repeat(fill - full * 100)}`;
    };
    expect(parseUnitFile(body(UNIT_FILE_MAX_BYTES))).toHaveLength(1);
    let err: unknown;
    try {
      parseUnitFile(body(UNIT_FILE_MAX_BYTES + 1));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnitParseError);
    const message = (err as Error).message;
    expect(message).toBe(
      `line ${3 + Math.floor((UNIT_FILE_MAX_BYTES - head.length) / 100)}, column ${((UNIT_FILE_MAX_BYTES - head.length) % 100) + 1}: unit file is ${UNIT_FILE_MAX_BYTES + 1} bytes, larger than the limit of ${UNIT_FILE_MAX_BYTES} bytes`,
    );
  });

  it('validateOptions refuses options whose unit file would exceed the cap', () => {
    const big = Array.from({ length: 300 }, (_, i) => ({
      section: 'Service',
      name: 'Environment',
      value: `V${i}=${'v'.repeat(2000)}`,
    }));
    expect(validateOptions([service, ...big])).toMatch(
      /^line \d+, column \d+: unit file is \d+ bytes, larger than/,
    );
  });
});

describe('[X-Fleet] validation at scale', () => {
  const many = (key: string, prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => xf(key, `${prefix}${i}.service`));

  it('5,000 Conflicts × 5,000 MachineOf that do not collide validate', () => {
    const opts = [service, ...many('Conflicts', 'c', 5000), ...many('MachineOf', 'p', 5000)];
    expect(validateOptions(opts)).toBeNull();
  });

  it('a collision among thousands is reported with the first matching pattern, as fleet orders them', () => {
    const opts = [
      service,
      ...many('Conflicts', 'c', 4000),
      xf('Conflicts', 'p39*'),
      xf('Conflicts', 'p3999.service'),
      ...many('MachineOf', 'p', 4000),
    ];
    // Peers are tried in order: p39.service is the first that a pattern (p39*) matches.
    expect(validateOptions(opts)).toBe(
      'unresolvable requirements: peer "p39.service" matches conflict "p39*"',
    );
    const literalFirst = [
      service,
      xf('Conflicts', 'p7.service'),
      xf('Conflicts', 'p*'),
      xf('MachineOf', 'p7.service'),
    ];
    expect(validateOptions(literalFirst)).toBe(
      'unresolvable requirements: peer "p7.service" matches conflict "p7.service"',
    );
    const globFirst = [
      service,
      xf('Conflicts', 'p*'),
      xf('Conflicts', 'p7.service'),
      xf('MachineOf', 'p7.service'),
    ];
    expect(validateOptions(globFirst)).toBe(
      'unresolvable requirements: peer "p7.service" matches conflict "p*"',
    );
  });

  it('too many MachineOf × wildcard patterns is refused with one line naming the limit', () => {
    const globs = Array.from({ length: 600 }, (_, i) => xf('Conflicts', `c${i}@*.service`));
    const opts = [service, ...globs, ...many('MachineOf', 'p', 500)];
    expect(validateOptions(opts)).toBe(
      `too many [X-Fleet] combinations: 500 MachineOf × 600 wildcard Conflicts/Replaces (max ${MAX_GLOB_CHECKS})`,
    );
  });

  it('20,000 MachineMetadata values of one key are kept once each, in order', () => {
    const opts = [
      service,
      ...Array.from({ length: 20_000 }, (_, i) => xf('MachineMetadata', `role=r${i % 10_000}`)),
    ];
    const values = parseRequirements(opts).metadata.role ?? [];
    expect(values).toHaveLength(10_000);
    expect(values.slice(0, 3)).toEqual(['r0', 'r1', 'r2']);
  });
});
