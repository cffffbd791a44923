// Cluster cron, pure parts: tick computation (croner's public next-run API), missed/overlap decisions, and the
// Schedule* validation messages users see at submit time.
import { describe, expect, it } from 'vitest';
import { classifyTicks, decideTicks } from '../../engine/cron/policy.js';
import { compileSchedule, tickISO, ticksBetween } from '../../engine/cron/ticks.js';
import { parseUnitFile } from '../../units/parse.js';
import { parseRequirements, validateOptions } from '../../units/xfleet.js';

const at = (iso: string): number => Date.parse(iso);
const unit = (xfleet: string): string =>
  `[Service]\nType=oneshot\nExecStart=/bin/true\n\n[X-Fleet]\n${xfleet}\n`;
const validate = (xfleet: string): string | null => validateOptions(parseUnitFile(unit(xfleet)));

describe('cron ticks', () => {
  it('computes the next tick strictly after a given time, with seconds', () => {
    const s = compileSchedule({ expression: '*/2 * * * * *' });
    expect(tickISO(s.next(at('2026-01-01T00:00:00.000Z')))).toBe('2026-01-01T00:00:02.000Z');
    expect(tickISO(s.next(at('2026-01-01T00:00:01.999Z')))).toBe('2026-01-01T00:00:02.000Z');
  });

  it('reads 5-field expressions in the given time zone', () => {
    const paris = compileSchedule({ expression: '0 3 * * *', timezone: 'Europe/Paris' });
    expect(tickISO(paris.next(at('2026-01-01T00:00:00Z')))).toBe('2026-01-01T02:00:00.000Z');
    const summer = compileSchedule({ expression: '0 3 * * *', timezone: 'Europe/Paris' });
    expect(tickISO(summer.next(at('2026-07-01T00:00:00Z')))).toBe('2026-07-01T01:00:00.000Z');
  });

  it('lists the ticks in (from, to], keeping only the newest when capped', () => {
    const s = compileSchedule({ expression: '* * * * * *' });
    const all = ticksBetween(s, at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:05Z'), 100);
    expect(all.ticks.map(tickISO)).toEqual([1, 2, 3, 4, 5].map((n) => `2026-01-01T00:00:0${n}.000Z`));
    expect(all.more).toBe(false);
    const capped = ticksBetween(s, at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:05Z'), 2);
    expect(capped.ticks.map(tickISO)).toEqual(['2026-01-01T00:00:04.000Z', '2026-01-01T00:00:05.000Z']);
    expect(capped.more).toBe(true);
  });

  it('requires day-of-month AND day-of-week to match (node-cron semantics, not Vixie OR)', () => {
    // The 13th that is a Friday: 2026-02-13 and 2026-03-13 are Fridays.
    const s = compileSchedule({ expression: '0 0 13 * 5' });
    expect(tickISO(s.next(at('2026-01-01T00:00:00Z')))).toBe('2026-02-13T00:00:00.000Z');
    expect(tickISO(s.next(at('2026-02-13T00:00:00Z')))).toBe('2026-03-13T00:00:00.000Z');
  });

  it('understands names, L and # as documented', () => {
    expect(tickISO(compileSchedule({ expression: '0 0 L * *' }).next(at('2026-02-02T00:00:00Z')))).toBe(
      '2026-02-28T00:00:00.000Z',
    );
    expect(tickISO(compileSchedule({ expression: '0 0 * * fri#2' }).next(at('2026-01-01T00:00:00Z')))).toBe(
      '2026-01-09T00:00:00.000Z',
    );
    expect(tickISO(compileSchedule({ expression: '0 9 * jan mon' }).next(at('2026-01-01T00:00:00Z')))).toBe(
      '2026-01-05T09:00:00.000Z',
    );
  });

  it('rejects an unknown time zone at compile time', () => {
    expect(() => compileSchedule({ expression: '* * * * *', timezone: 'Nowhere/Land' })).toThrow(
      /time zone/i,
    );
  });
});

describe('cron decisions', () => {
  const base = at('2026-01-01T00:00:10Z');
  const t = (s: number): number => base + s * 1000;
  const skipSkip = { missed: 'skip', overlap: 'skip' } as const;

  it('runs an on-time tick on the first feasible machine', () => {
    const d = decideTicks({
      policy: skipSkip,
      due: classifyTicks([t(0)], t(0) + 200, 1000),
      active: [],
      feasible: ['m2', 'm1'],
      tickISO,
    });
    expect(d).toEqual([{ kind: 'run', at: t(0), machineID: 'm2', late: false }]);
  });

  it('runs a tick a busy leader reaches late when it was already leading at tick time', () => {
    const leaderSince = t(0) - 10_000;
    const d = decideTicks({
      policy: skipSkip,
      due: classifyTicks([t(0)], leaderSince, 1000), // on time however late the busy leader decides it
      active: [],
      feasible: ['m1'],
      tickISO,
    });
    expect(d).toEqual([{ kind: 'run', at: t(0), machineID: 'm1', late: false }]);
  });

  it('records overdue ticks as missed (ScheduleMissed=skip)', () => {
    const d = decideTicks({
      policy: skipSkip,
      due: classifyTicks([t(0), t(1), t(2)], t(2) + 100, 1000),
      active: [],
      feasible: ['m1'],
      tickISO,
    });
    expect(d.map((x) => (x.kind === 'record' ? x.status : 'run'))).toEqual(['missed', 'missed', 'run']);
  });

  it('runs only the newest overdue tick late (ScheduleMissed=run)', () => {
    const d = decideTicks({
      policy: { missed: 'run', overlap: 'skip' },
      due: classifyTicks([t(0), t(1), t(2)], t(5), 1000),
      active: [],
      feasible: ['m1'],
      tickISO,
    });
    expect(d).toEqual([
      { kind: 'record', at: t(0), status: 'missed', reason: 'no engine leader at tick time' },
      { kind: 'record', at: t(1), status: 'missed', reason: 'no engine leader at tick time' },
      { kind: 'run', at: t(2), machineID: 'm1', late: true },
    ]);
  });

  it('does not run a late tick when an on-time tick follows in the same batch', () => {
    const d = decideTicks({
      policy: { missed: 'run', overlap: 'skip' },
      due: classifyTicks([t(0), t(4)], t(4) + 100, 1000),
      active: [],
      feasible: ['m1'],
      tickISO,
    });
    expect(d.map((x) => (x.kind === 'run' ? `run@${x.late}` : x.status))).toEqual(['missed', 'run@false']);
  });

  it('skips a tick while a run is active (ScheduleOverlap=skip), naming the active run', () => {
    const d = decideTicks({
      policy: skipSkip,
      due: classifyTicks([t(0)], t(0), 1000),
      active: [{ tick: '2026-01-01T00:00:09.000Z', machineID: 'm1' }],
      feasible: ['m1', 'm2'],
      tickISO,
    });
    expect(d).toEqual([
      {
        kind: 'record',
        at: t(0),
        status: 'skipped',
        reason: 'overlap: run 2026-01-01T00:00:09.000Z still active on m1',
      },
    ]);
  });

  it('with ScheduleOverlap=allow runs on a machine not running the unit, else skips', () => {
    const d = decideTicks({
      policy: { missed: 'skip', overlap: 'allow' },
      due: classifyTicks([t(0), t(1)], t(1), 5000),
      active: [{ tick: 'x', machineID: 'm1' }],
      feasible: ['m1', 'm2'],
      tickISO,
    });
    expect(d[0]).toEqual({ kind: 'run', at: t(0), machineID: 'm2', late: false });
    expect(d[1]).toMatchObject({
      kind: 'record',
      status: 'skipped',
      reason: expect.stringMatching(/every machine/),
    });
  });

  it('skips a tick no machine can run', () => {
    const d = decideTicks({
      policy: skipSkip,
      due: classifyTicks([t(0)], t(0), 1000),
      active: [],
      feasible: [],
      tickISO,
    });
    expect(d).toEqual([
      { kind: 'record', at: t(0), status: 'skipped', reason: 'no machine able to run the unit' },
    ]);
  });
});

describe('Schedule validation and parsing', () => {
  it("rejects an invalid expression with the cron parser's message", () => {
    expect(validate('Schedule=61 * * * *')).toBe(
      'invalid Schedule "61 * * * *": CronPattern: Invalid value for minute: 61',
    );
    expect(validate('Schedule=* * *')).toBe('invalid Schedule "* * *": expected 5 or 6 fields but got 3');
    expect(validate('Schedule=0 0 0 1 1 * 2030')).toMatch(/expected 5 or 6 fields but got 7$/);
  });

  it('rejects Schedule with Global, bad policies, unknown zones and settings without Schedule', () => {
    expect(validate('Schedule=* * * * *\nGlobal=true')).toMatch(/^Schedule cannot be used with Global/);
    expect(validate('Schedule=* * * * *\nScheduleMissed=maybe')).toBe(
      'invalid ScheduleMissed "maybe": expected run or skip',
    );
    expect(validate('Schedule=* * * * *\nScheduleOverlap=never')).toBe(
      'invalid ScheduleOverlap "never": expected skip or allow',
    );
    expect(validate('Schedule=* * * * *\nScheduleTimezone=Mars/Base')).toBe(
      'invalid ScheduleTimezone "Mars/Base": unknown time zone',
    );
    expect(validate('ScheduleMissed=run')).toBe(
      'ScheduleMissed requires a non-empty Schedule= cron expression',
    );
  });

  it('accepts valid settings and parses them (defaults: missed skip, overlap skip)', () => {
    expect(validate('Schedule=*/5 * * * * *\nScheduleTimezone=Europe/Paris\nScheduleMissed=run')).toBeNull();
    const req = parseRequirements(
      parseUnitFile(unit('Schedule=*/5 * * * * *\nScheduleTimezone=Europe/Paris')),
    );
    expect(req.schedule).toEqual({
      expression: '*/5 * * * * *',
      timezone: 'Europe/Paris',
      missed: 'skip',
      overlap: 'skip',
    });
    expect(req.unknownKeys).toEqual([]);
    expect(parseRequirements(parseUnitFile(unit('MachineID=abc'))).schedule).toBeUndefined();
  });
});
