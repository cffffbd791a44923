// list-runs: the next tick of an armed scheduled unit comes from the same parser and time zone as the
// engine's ticks, and is shown first with RESULT `next`.
import { describe, expect, it } from 'vitest';
import { nextTick, renderRuns } from '../../cli/fleetctl/commands/runs.js';
import type { UnitWithTarget } from '../../registry/types.js';

const unit = (
  xfleet: Record<string, string>,
  desiredState: UnitWithTarget['desiredState'],
): UnitWithTarget => ({
  name: 'nightly.service',
  hash: 'h',
  desiredState,
  global: false,
  options: [
    { section: 'Service', name: 'ExecStart', value: '/bin/true' },
    ...Object.entries(xfleet).map(([name, value]) => ({ section: 'X-Fleet', name, value })),
  ],
});

describe('list-runs next tick', () => {
  const now = Date.parse('2026-03-10T12:00:00Z');

  it('is the next tick after now, in the unit’s time zone, for an armed unit', () => {
    expect(nextTick(unit({ Schedule: '0 3 * * *', ScheduleTimezone: 'Europe/Paris' }, 'launched'), now)).toBe(
      '2026-03-11T02:00:00.000Z',
    );
    expect(nextTick(unit({ Schedule: '*/15 * * * * *' }, 'launched'), now)).toBe('2026-03-10T12:00:15.000Z');
  });

  it('is absent for a paused unit, an ordinary unit and an unknown one', () => {
    expect(nextTick(unit({ Schedule: '0 3 * * *' }, 'loaded'), now)).toBeUndefined();
    expect(nextTick(unit({}, 'launched'), now)).toBeUndefined();
    expect(nextTick(null, now)).toBeUndefined();
  });

  it('is the first row of the table, RESULT next', () => {
    expect(renderRuns([], true, '2026-03-11T02:00:00.000Z').split('\n').slice(0, 2)).toEqual([
      'TICK\t\t\t\tMACHINE\tSTART\tEND\tRESULT',
      '2026-03-11T02:00:00.000Z\t-\t-\t-\tnext',
    ]);
  });
});
