import { describe, expect, it } from 'vitest';
import { parseUnitFile } from '../../units/parse.js';
import { DEFAULT_STOP_TIMEOUT_MS, parseTimeSpanMs, stopTimeoutMs } from '../../units/stop-timeout.js';
import { parseRequirements, validateOptions } from '../../units/xfleet.js';

const unit = (service: string, xfleet: string) =>
  parseUnitFile(`[Service]\nExecStart=/bin/true\n${service}\n[X-Fleet]\n${xfleet}\n`);

describe('systemd time spans', () => {
  it('reads plain seconds, units and combinations as systemd does', () => {
    expect(parseTimeSpanMs('90')).toBe(90_000);
    expect(parseTimeSpanMs('5s')).toBe(5000);
    expect(parseTimeSpanMs('1min 30s')).toBe(90_000);
    expect(parseTimeSpanMs('1min30s')).toBe(90_000);
    expect(parseTimeSpanMs('500ms')).toBe(500);
    expect(parseTimeSpanMs('2h')).toBe(7_200_000);
  });
  it('has no bound for infinity or unreadable values', () => {
    expect(parseTimeSpanMs('infinity')).toBeNull();
    expect(parseTimeSpanMs('soon')).toBeNull();
    expect(parseTimeSpanMs('')).toBeNull();
  });
});

describe('stop bound of a unit', () => {
  it('TimeoutStopSec wins over TimeoutSec; default 90 s', () => {
    expect(stopTimeoutMs(unit('TimeoutStopSec=7\nTimeoutSec=20', ''))).toBe(7000);
    expect(stopTimeoutMs(unit('TimeoutSec=20', ''))).toBe(20_000);
    expect(stopTimeoutMs(unit('', ''))).toBe(DEFAULT_STOP_TIMEOUT_MS);
    expect(stopTimeoutMs(unit('TimeoutStopSec=infinity', ''))).toBe(DEFAULT_STOP_TIMEOUT_MS);
    expect(stopTimeoutMs(unit('TimeoutStopSec=0', ''))).toBe(DEFAULT_STOP_TIMEOUT_MS);
  });
});

describe('[X-Fleet] StopOnDisconnect', () => {
  it('is absent for ordinary units and carries the stop bound when true', () => {
    expect(parseRequirements(unit('', '')).stopOnDisconnect).toBeUndefined();
    expect(parseRequirements(unit('', 'StopOnDisconnect=false')).stopOnDisconnect).toBeUndefined();
    expect(parseRequirements(unit('TimeoutStopSec=12', 'StopOnDisconnect=true')).stopOnDisconnect).toEqual({
      stopTimeoutMs: 12_000,
    });
    expect(parseRequirements(unit('', 'StopOnDisconnect=yes')).unknownKeys).toEqual([]);
  });
  it('is rejected with Global=true and with Schedule', () => {
    expect(validateOptions(unit('', 'StopOnDisconnect=true\nGlobal=true'))).toBe(
      'StopOnDisconnect cannot be used with Global',
    );
    expect(validateOptions(unit('', 'StopOnDisconnect=true\nSchedule=* * * * *'))).toBe(
      'StopOnDisconnect cannot be used with Schedule',
    );
    expect(validateOptions(unit('', 'StopOnDisconnect=true\nConflicts=a*.service'))).toBeNull();
  });
});
