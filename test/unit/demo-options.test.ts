// `npm run demo` options: the defaults, both flag spellings, and one clear error per bad input.
import { describe, expect, it } from 'vitest';
import { HELP, parseStart } from '../../scripts/demo/options.js';

describe('demo options', () => {
  it('defaults to 3 machines, removing the cluster when a step fails', () => {
    expect(parseStart([])).toEqual({ machines: 3, keep: false, scenario: 'tour' });
  });

  it('reads --machines N, --machines=N, --keep and leaves --no-install to demo.sh', () => {
    expect(parseStart(['--machines', '5', '--keep'])).toEqual({ machines: 5, keep: true, scenario: 'tour' });
    expect(parseStart(['--machines=8', '--no-install'])).toEqual({
      machines: 8,
      keep: false,
      scenario: 'tour',
    });
  });

  it('galera defaults to 4 machines (3 nodes and a spare) and refuses fewer', () => {
    expect(parseStart([], 'galera')).toEqual({ machines: 4, keep: false, scenario: 'galera' });
    expect(parseStart(['--machines=5'], 'galera')).toEqual({ machines: 5, keep: false, scenario: 'galera' });
    expect(() => parseStart(['--machines', '3'], 'galera')).toThrow(
      'galera needs --machines 4 or more (3 nodes and a spare)',
    );
  });

  it.each([
    [['--machines', '2'], '--machines needs a number from 3 to 8, not "2"'],
    [['--machines', '9'], '--machines needs a number from 3 to 8, not "9"'],
    [['--machines=three'], '--machines needs a number from 3 to 8, not "three"'],
    [['--machines'], '--machines needs a number from 3 to 8, not ""'],
    [['--fast'], 'unknown option "--fast" (see npm run demo -- --help)'],
  ])('refuses %j', (args, message) => {
    expect(() => parseStart(args)).toThrow(message);
  });

  it('--help lists every step and option', () => {
    for (const text of [
      'list-machines -l',
      'apache@8081',
      'status, journal -n 3, ssh UNIT hostname',
      '--tunnel',
      'powered off',
      '/var/lib/fleet-watch',
      'export line',
      '--machines N',
      '--keep',
      '--no-install',
      'npm run demo -- stop',
      'npm run demo -- env',
      'npm run demo -- galera',
    ]) {
      expect(HELP).toContain(text);
    }
  });
});
