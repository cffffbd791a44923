import { describe, expect, it } from 'vitest';
import { journalArgs, parseShowOutput } from '../../agent/systemd/systemctl.js';

// Output shape of `systemctl show -p Id,LoadState,ActiveState,SubState a b c` on systemd 252:
// systemd prints properties in its own order, one block per requested name, blank line between.
const SHOW = `Id=a.service
LoadState=loaded
ActiveState=active
SubState=running

Id=nope.service
LoadState=not-found
ActiveState=inactive
SubState=dead

Id=real.service
LoadState=loaded
ActiveState=failed
SubState=failed
`;

describe('parseShowOutput', () => {
  it('maps blocks to the requested names by position', () => {
    const m = parseShowOutput(SHOW, ['a.service', 'nope.service', 'alias.service']);
    expect([...m.entries()]).toEqual([
      ['a.service', { load: 'loaded', active: 'active', sub: 'running' }],
      ['nope.service', { load: 'not-found', active: 'inactive', sub: 'dead' }],
      // an alias reports its target's Id; position still ties it to the name asked for
      ['alias.service', { load: 'loaded', active: 'failed', sub: 'failed' }],
    ]);
  });

  it('falls back to Id when block and name counts differ, unknown names as not-found', () => {
    const m = parseShowOutput(SHOW, ['real.service', 'a.service', 'x.service', 'y.service']);
    expect(m.get('real.service')).toEqual({ load: 'loaded', active: 'failed', sub: 'failed' });
    expect(m.get('a.service')?.sub).toBe('running');
    expect(m.get('y.service')).toEqual({ load: 'not-found', active: 'inactive', sub: 'dead' });
  });

  it('keeps values containing "=" whole and tolerates missing properties', () => {
    const m = parseShowOutput('Id=x.service\nLoadState=masked\nActiveState=a=b\n', ['x.service']);
    expect(m.get('x.service')).toEqual({ load: 'masked', active: 'a=b', sub: 'dead' });
  });

  it('returns an empty map for no names', () => {
    expect(parseShowOutput('', []).size).toBe(0);
  });
});

describe('journalArgs', () => {
  it('builds fleetctl journal argv', () => {
    expect(journalArgs('hello.service')).toEqual(['--unit', 'hello.service', '--no-pager', '-n', '10']);
    expect(journalArgs('h.service', { lines: 3, output: 'json', follow: true }, true)).toEqual([
      '--user',
      '--unit',
      'h.service',
      '--no-pager',
      '-n',
      '3',
      '--output',
      'json',
      '-f',
    ]);
  });
});
