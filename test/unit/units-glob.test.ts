import { describe, expect, it } from 'vitest';
import { globMatch, isValidGlob } from '../../units/glob.js';

// Go's src/path/match_test.go table; `bad` marks ErrBadPattern, which never matches.
const GO_MATCH_TESTS: ReadonlyArray<[pattern: string, name: string, match: boolean, bad?: 'bad']> = [
  ['abc', 'abc', true],
  ['*', 'abc', true],
  ['*c', 'abc', true],
  ['a*', 'a', true],
  ['a*', 'abc', true],
  ['a*', 'ab/c', false],
  ['a*/b', 'abc/b', true],
  ['a*/b', 'a/c/b', false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false],
  ['ab[c]', 'abc', true],
  ['ab[b-d]', 'abc', true],
  ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false],
  ['ab[^b-d]', 'abc', false],
  ['ab[^e-g]', 'abc', true],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'ab', false],
  ['a?b', 'a☺b', true],
  ['a[^a]b', 'a☺b', true],
  ['a???b', 'a☺b', false],
  ['a[^a][^a][^a]b', 'a☺b', false],
  ['[a-ζ]*', 'α', true],
  ['*[a-ζ]', 'A', false],
  ['a?b', 'a/b', false],
  ['a*b', 'a/b', false],
  ['[\\]a]', ']', true],
  ['[\\-]', '-', true],
  ['[x\\-]', 'x', true],
  ['[x\\-]', '-', true],
  ['[x\\-]', 'z', false],
  ['[\\-x]', 'x', true],
  ['[\\-x]', '-', true],
  ['[\\-x]', 'a', false],
  ['[]a]', ']', false, 'bad'],
  ['[-]', '-', false, 'bad'],
  ['[x-]', 'x', false, 'bad'],
  ['[x-]', '-', false, 'bad'],
  ['[x-]', 'z', false, 'bad'],
  ['[-x]', 'x', false, 'bad'],
  ['[-x]', '-', false, 'bad'],
  ['[-x]', 'a', false, 'bad'],
  ['\\', 'a', false, 'bad'],
  ['[a-b-c]', 'a', false, 'bad'],
  ['[', 'a', false, 'bad'],
  ['[^', 'a', false, 'bad'],
  ['[^bc', 'a', false, 'bad'],
  ['a[', 'a', false, 'bad'],
  ['a[', 'ab', false, 'bad'],
  ['a[', 'x', false, 'bad'],
  ['a/b[', 'x', false, 'bad'],
  ['*x', 'xxx', true],
];

describe('globMatch mirrors Go path.Match', () => {
  it.each(GO_MATCH_TESTS)('Match(%j, %j) = %s', (pattern, name, match, bad) => {
    expect(globMatch(pattern, name)).toBe(match);
    expect(isValidGlob(pattern)).toBe(bad !== 'bad');
  });

  it('matches unit-name patterns as fleet uses them', () => {
    expect(globMatch('apache@*.service', 'apache@1.service')).toBe(true);
    expect(globMatch('apache@*.service', 'apache@.service')).toBe(true);
    expect(globMatch('apache@*.service', 'nginx@1.service')).toBe(false);
    expect(globMatch('foo*', 'foo.service')).toBe(true);
    expect(globMatch('foo.service', 'foo.service')).toBe(true);
    expect(globMatch('foo.service', 'foo.socket')).toBe(false);
    expect(globMatch('', '')).toBe(true);
    expect(globMatch('', 'a')).toBe(false);
  });
});
