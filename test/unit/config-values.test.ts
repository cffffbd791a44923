import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfSyntaxError,
  normalizeKeyPrefix,
  parseConfFile,
  parseEtcdServers,
  parseGoBool,
  parseGoDurationMs,
  parseGoFloat,
  parseGoInt,
  parseMetadata,
  parseStringSlice,
  ValueError,
} from '../../cli/fleetd/config-values.js';

describe('Go booleans (strconv.ParseBool)', () => {
  it.each(['1', 't', 'T', 'TRUE', 'true', 'True'])('%s is true', (s) => {
    expect(parseGoBool(s)).toBe(true);
  });
  it.each(['0', 'f', 'F', 'FALSE', 'false', 'False'])('%s is false', (s) => {
    expect(parseGoBool(s)).toBe(false);
  });
  it.each(['yes', 'no', 'on', 'off', 'tRUE', '', ' true', '2'])('%j is rejected', (s) => {
    expect(() => parseGoBool(s)).toThrow(ValueError);
    expect(() => parseGoBool(s)).toThrow(/expected true or false/);
  });
});

describe('Go durations (time.ParseDuration) in ms', () => {
  it.each([
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['2h', 7_200_000],
    ['1.5s', 1500],
    ['.5m', 30_000],
    ['1h2m3s4ms', 3_723_004],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['2000000ns', 2],
    ['0', 0],
    ['+5s', 5000],
    ['-5s', -5000],
  ])('%s = %d ms', (s, ms) => {
    expect(parseGoDurationMs(s)).toBeCloseTo(ms, 9);
  });
  it.each(['30', '', 's', '1x', '1 s', '30S', '1m 30s', '1.s.', 'abc', '--1s', '1d'])(
    '%j is rejected like Go',
    (s) => {
      expect(() => parseGoDurationMs(s)).toThrow(/expected a duration like 30s/);
    },
  );
  it('sums any sequence of terms', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(59), fc.nat(59), (h, m, s) => {
        expect(parseGoDurationMs(`${h}h${m}m${s}s`)).toBe(((h * 60 + m) * 60 + s) * 1000);
      }),
    );
  });
});

describe('numbers', () => {
  it('parses decimal integers and rejects the rest', () => {
    expect(parseGoInt('100')).toBe(100);
    expect(parseGoInt('-2')).toBe(-2);
    for (const bad of ['1.5', '', 'ten', '1e3', '99999999999999999999']) {
      expect(() => parseGoInt(bad)).toThrow(/expected a whole number/);
    }
  });
  it('parses floats and rejects the rest', () => {
    expect(parseGoFloat('1.0')).toBe(1);
    expect(parseGoFloat('2')).toBe(2);
    expect(parseGoFloat('.25')).toBe(0.25);
    expect(parseGoFloat('5e-1')).toBe(0.5);
    for (const bad of ['', 'abc', '1,5', 'NaN', 'Inf', '1s']) {
      expect(() => parseGoFloat(bad)).toThrow(/expected a number/);
    }
  });
});

describe('etcd_servers (fleet pkg.StringSlice)', () => {
  it('reads the plain and the bracketed form alike', () => {
    const want = ['http://127.0.0.1:2379', 'http://127.0.0.1:4001'];
    expect(parseEtcdServers('http://127.0.0.1:2379,http://127.0.0.1:4001')).toEqual(want);
    expect(parseEtcdServers('["http://127.0.0.1:2379", "http://127.0.0.1:4001"]')).toEqual(want);
    expect(parseEtcdServers('["http://127.0.0.1:2379","http://127.0.0.1:4001"]')).toEqual(want);
    expect(parseEtcdServers(' http://127.0.0.1:2379 , http://127.0.0.1:4001 ')).toEqual(want);
    expect(parseEtcdServers('https://etcd.example:2379')).toEqual(['https://etcd.example:2379']);
  });
  it('drops empty items', () => {
    expect(parseStringSlice('a,,b,')).toEqual(['a', 'b']);
  });
  it.each(['', '[]', '127.0.0.1:2379', 'ftp://x:1', 'http://', 'not a url'])('rejects %j', (s) => {
    expect(() => parseEtcdServers(s)).toThrow(/expected a comma-separated list of etcd URLs/);
  });
});

describe('metadata (fleet config.Metadata)', () => {
  it('splits pairs on the first =, trims, last duplicate wins', () => {
    const { metadata, skipped } = parseMetadata(' region = us-west , az=us-west-1,eq=a=b,region=eu ');
    expect(metadata).toEqual({ region: 'eu', az: 'us-west-1', eq: 'a=b' });
    expect(skipped).toEqual([]);
  });
  it('removes surrounding quotes of the whole value', () => {
    expect(parseMetadata('"name=of1,idx=1"').metadata).toEqual({ name: 'of1', idx: '1' });
    expect(parseMetadata("'a=1'").metadata).toEqual({ a: '1' });
  });
  it('allows empty values and reports pairs without a key', () => {
    const { metadata, skipped } = parseMetadata('a=,novalue,=x,b=2');
    expect(metadata).toEqual({ a: '', b: '2' });
    expect(skipped).toEqual(['novalue', '=x']);
  });
  it('is empty for an empty string', () => {
    expect(parseMetadata('')).toEqual({ metadata: {}, skipped: [] });
    expect(parseMetadata('""')).toEqual({ metadata: {}, skipped: [] });
  });
  it('keeps __proto__ as plain data', () => {
    const { metadata } = parseMetadata('__proto__=x,a=1');
    expect(Object.keys(metadata)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
  });
});

describe('key prefix', () => {
  it('is made a directory path', () => {
    expect(normalizeKeyPrefix('/_coreos.com/fleet/')).toBe('/_coreos.com/fleet/');
    expect(normalizeKeyPrefix('/x')).toBe('/x/');
    expect(normalizeKeyPrefix('x')).toBe('/x/');
  });
});

describe('fleet.conf reader (goini rules)', () => {
  it('reads the forms a fleet.conf uses', () => {
    const text = [
      '# a comment',
      '; another',
      '',
      'etcd_servers=["http://127.0.0.1:24790"]',
      'public_ip=127.0.0.11',
      'metadata="name=of1,idx=1"',
      "agent_ttl='45s'",
      '  Verbosity = 1   # trailing comment',
      'token_limit=',
      'units_directory=/run/x;comment',
      'etcd_key_prefix=/a\\',
      '   b/',
      '[Other]',
      'x=y',
    ].join('\n');
    expect(parseConfFile(text)).toEqual([
      { section: '', key: 'etcd_servers', value: '["http://127.0.0.1:24790"]', line: 4 },
      { section: '', key: 'public_ip', value: '127.0.0.11', line: 5 },
      { section: '', key: 'metadata', value: 'name=of1,idx=1', line: 6 },
      { section: '', key: 'agent_ttl', value: '45s', line: 7 },
      { section: '', key: 'verbosity', value: '1', line: 8 },
      { section: '', key: 'token_limit', value: '', line: 9 },
      { section: '', key: 'units_directory', value: '/run/x', line: 10 },
      { section: '', key: 'etcd_key_prefix', value: '/ab/', line: 11 },
      { section: 'other', key: 'x', value: 'y', line: 14 },
    ]);
  });
  it('reads CRLF files', () => {
    expect(parseConfFile('a=1\r\nb=2\r\n').map((e) => [e.key, e.value])).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });
  it.each([
    ['just words', 1],
    ['ok=1\nkey with space=1', 2],
    ['=value', 1],
    ['a=1\nb=2\\', 2],
  ])('reports the line of a syntax error in %j', (text, line) => {
    let err: unknown;
    try {
      parseConfFile(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfSyntaxError);
    expect((err as ConfSyntaxError).line).toBe(line);
    expect((err as Error).message).toMatch(new RegExp(`^syntax error at line ${line}: expected key=value`));
  });
});
