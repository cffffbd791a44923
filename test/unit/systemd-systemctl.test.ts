import { describe, expect, it } from 'vitest';
import { parseJournalRun, parseShowOutput } from '../../agent/systemd/systemctl-output.js';

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

// systemd 252's own messages about two oneshot runs, as `journalctl -o json _PID=1 UNIT=...` prints
// them (fields trimmed to the ones that matter; values verbatim from a real machine).
const j = (id: string, usec: number, extra: Record<string, string> = {}) =>
  JSON.stringify({ MESSAGE_ID: id, __REALTIME_TIMESTAMP: String(usec), _PID: '1', ...extra });
const STARTING = '7d4958e842da4a758f6c1cdc7b36dcc5';
const SUCCESS = '7ad2d189f7e94e70a38c781354912448';
const FINISHED = '39f53479d3a045ac8e11786248231fbf';
const EXIT = '98e322203f7a4ed290d09fe03c09fe15';
const FAILURE = 'd9b373ed55a64feb8242e02dbe79a49c';

describe('parseJournalRun: the last finished run from systemd journal messages', () => {
  it('reads a successful run that systemd has already garbage-collected', () => {
    const text = [
      j(STARTING, 1795452303489041, { JOB_TYPE: 'start' }),
      j(SUCCESS, 1795452303497308),
      j(FINISHED, 1795452303497635, { JOB_TYPE: 'start', JOB_RESULT: 'done' }),
    ].join('\n');
    expect(parseJournalRun(text)).toEqual({
      active: 'inactive',
      result: 'success',
      execMainStatus: 0,
      startedAt: 1795452303489,
      exitedAt: 1795452303497,
    });
  });

  it('reads a failed run with its exit status and result', () => {
    const text = [
      j(STARTING, 1795452303549277),
      j(EXIT, 1795452303563134, { EXIT_CODE: 'exited', EXIT_STATUS: '3' }),
      j(FAILURE, 1795452303563394, { UNIT_RESULT: 'exit-code' }),
    ].join('\n');
    expect(parseJournalRun(text)).toMatchObject({ active: 'failed', result: 'exit-code', execMainStatus: 3 });
  });

  it('reports the newest run only, and nothing while the newest start has not finished', () => {
    const older = [j(STARTING, 1_000_000_000), j(SUCCESS, 1_100_000_000)];
    const newer = [j(STARTING, 5_000_000_000), j(EXIT, 5_100_000_000, { EXIT_STATUS: '1' })];
    expect(parseJournalRun([...older, ...newer].join('\n'))).toBeNull();
    const done = [...older, ...newer, j(FAILURE, 5_200_000_000, { UNIT_RESULT: 'exit-code' })];
    expect(parseJournalRun(done.join('\n'))).toMatchObject({
      startedAt: 5_000_000,
      exitedAt: 5_200_000,
      execMainStatus: 1,
    });
  });

  it('ignores a success without a start, garbage lines and an empty journal', () => {
    expect(parseJournalRun('')).toBeNull();
    expect(parseJournalRun([j(SUCCESS, 1_000_000), 'not json', '-- No entries --'].join('\n'))).toBeNull();
  });
});
