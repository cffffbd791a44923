import { describe, expect, it } from 'vitest';
import { formatTable, tabwrite } from '../../cli/fleetctl/tabwriter.js';

// Expected outputs are verbatim from real fleetctl 1.0 (fleet-1.0-observed.md §3), TABs included.
const rows = (s: string): string[][] =>
  s
    .trim()
    .split('\n')
    .map((l) => l.split(/\t+/));

describe('tabwriter (Go text/tabwriter, padchar TAB, tabwidth 8, padding 1)', () => {
  it('pads list-units like fleet 1.0', () => {
    const expected =
      'UNIT\t\tMACHINE\t\t\tACTIVE\tSUB\n' +
      'hello@1.service\t21e51b3c.../127.0.0.12\tactive\trunning\n' +
      'hello@2.service\t6b1bc4a7.../127.0.0.13\tactive\trunning\n' +
      'hello@3.service\t07d9057b.../127.0.0.11\tactive\trunning\n';
    expect(formatTable(rows(expected))).toBe(expected);
  });

  it('pads a column wider when one cell needs it (inactive/dead row)', () => {
    const expected =
      'UNIT\t\tMACHINE\t\t\tACTIVE\t\tSUB\n' +
      'hello@1.service\t21e51b3c.../127.0.0.12\tinactive\tdead\n' +
      'hello@2.service\t6b1bc4a7.../127.0.0.13\tactive\t\trunning\n';
    expect(formatTable(rows(expected))).toBe(expected);
  });

  it('pads --full list-unit-files with 40-char hashes', () => {
    const expected =
      'UNIT\t\tHASH\t\t\t\t\t\tDSTATE\t\tSTATE\t\tTARGET\n' +
      'hello@.service\tdfbed83c8cfc7a781ea9650cc80707c05f5ff2bd\tinactive\tinactive\t-\n' +
      'hello@1.service\tdfbed83c8cfc7a781ea9650cc80707c05f5ff2bd\tlaunched\tlaunched\t21e51b3c543a44839c2a4e0ec9177954/127.0.0.12\n';
    expect(formatTable(rows(expected))).toBe(expected);
  });

  it('header alone gets one TAB per column', () => {
    expect(formatTable([['UNIT', 'HASH', 'DSTATE', 'STATE', 'TARGET']])).toBe(
      'UNIT\tHASH\tDSTATE\tSTATE\tTARGET\n',
    );
  });

  it('list-machines', () => {
    const expected =
      'MACHINE\t\tIP\t\tMETADATA\n' +
      '07d9057b...\t127.0.0.11\tidx=1,name=of1\n' +
      '21e51b3c...\t127.0.0.12\tidx=2,name=of2\n';
    expect(formatTable(rows(expected))).toBe(expected);
  });

  it('a cell of exactly 8 runes needs a full extra tab stop (padding 1)', () => {
    expect(
      formatTable([
        ['12345678', 'x'],
        ['a', 'y'],
      ]),
    ).toBe('12345678\tx\na\t\ty\n');
  });

  it('blocks end at a line with fewer cells (Go column blocks)', () => {
    // The middle line has no tab-terminated cell, so the first and last lines are aligned separately.
    expect(tabwrite('a\tb\nc\ndddddddddddd\te\n')).toBe('a\tb\nc\ndddddddddddd\te\n');
    // Without the middle line they form one block and `a` is padded to the wide column.
    expect(tabwrite('a\tb\ndddddddddddd\te\n')).toBe('a\t\tb\ndddddddddddd\te\n');
  });

  it('counts runes, not UTF-16 units', () => {
    expect(
      formatTable([
        ['ééééééé', 'x'],
        ['a', 'y'],
      ]),
    ).toBe('ééééééé\tx\na\ty\n');
  });

  it('counts a character outside the BMP (two UTF-16 units) as one rune, and a lone surrogate as one', () => {
    const astral = '\u{1D518}'.repeat(7); // 14 UTF-16 units, 7 runes: fits the first tab stop
    expect(
      formatTable([
        [astral, 'x'],
        ['a', 'y'],
      ]),
    ).toBe(`${astral}\tx\na\ty\n`);
    const lone = '\uD835\uDD18\uDD18\uD835abcd'; // a pair, a lone low, a lone high, 4 letters: 7 runes
    expect(
      formatTable([
        [lone, 'x'],
        ['a', 'y'],
      ]),
    ).toBe(`${lone}\tx\na\ty\n`);
    const eight = '\u{1D518}'.repeat(8); // 8 runes: padding 1 needs the second tab stop
    expect(
      formatTable([
        [eight, 'x'],
        ['a', 'y'],
      ]),
    ).toBe(`${eight}\tx\na\t\ty\n`);
  });

  it('empty input gives empty output', () => {
    expect(formatTable([])).toBe('');
  });
});
