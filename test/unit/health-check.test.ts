import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { type HealthCheckResult, HealthChecks, shellHealthCheck } from '../../agent/health-check.js';
import { healthCheckOf } from '../../units/health-check.js';
import { createLogger } from '../../units/log.js';
import { parseUnitFile } from '../../units/parse.js';
import { validateOptions } from '../../units/xfleet.js';

const unit = (xfleet: string) => parseUnitFile(`[Service]\nExecStart=/bin/true\n\n[X-Fleet]\n${xfleet}\n`);
const tmp = mkdtempSync(join(tmpdir(), 'fleet-ts-health-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('[X-Fleet] HealthCheck options', () => {
  it('defaults, last value wins, empty means none', () => {
    expect(healthCheckOf(unit('HealthCheck=/bin/true'))).toEqual({
      command: '/bin/true',
      timeoutMs: 10_000,
      intervalMs: 5_000,
    });
    expect(
      healthCheckOf(
        unit('HealthCheck=a\nHealthCheck=b %i\nHealthCheckTimeoutSec=2s\nHealthCheckIntervalSec=500ms'),
      ),
    ).toEqual({ command: 'b %i', timeoutMs: 2000, intervalMs: 500 });
    expect(healthCheckOf(unit('HealthCheck=a\nHealthCheck='))).toBeUndefined();
    expect(healthCheckOf(unit('Conflicts=x'))).toBeUndefined();
  });

  it('validation names the bad option and value', () => {
    expect(validateOptions(unit('HealthCheck=/bin/true\nHealthCheckTimeoutSec=soon'))).toBe(
      'invalid HealthCheckTimeoutSec value "soon": expected a time span between 100ms and 1h (e.g. 10, 10s, 500ms, 1min)',
    );
    expect(validateOptions(unit('HealthCheck=/bin/true\nHealthCheckIntervalSec=5ms'))).toContain(
      'invalid HealthCheckIntervalSec value "5ms"',
    );
    expect(validateOptions(unit('HealthCheck=/bin/true\nHealthCheckTimeoutSec=2h'))).toContain(
      'between 100ms and 1h',
    );
    expect(validateOptions(unit('HealthCheckTimeoutSec=5'))).toBe('HealthCheckTimeoutSec needs HealthCheck=');
    expect(validateOptions(unit('HealthCheck=/bin/true\nHealthCheckTimeoutSec=1min 30s'))).toBeNull();
  });
});

describe('shellHealthCheck', () => {
  it('exit 0 is healthy; otherwise the exit code and the last output line', async () => {
    expect(await shellHealthCheck('exit 0', 5000)).toEqual({ ok: true, detail: '' });
    expect(await shellHealthCheck('echo one; echo "two  " >&2; exit 3', 5000)).toEqual({
      ok: false,
      detail: 'exit 3: two',
    });
    expect(await shellHealthCheck('exit 1', 5000)).toEqual({ ok: false, detail: 'exit 1' });
  });

  it('a check over its timeout fails and its whole process group is killed', async () => {
    const pidFile = join(tmp, 'child.pid');
    const r = await shellHealthCheck(`sleep 60 & echo $! > ${pidFile}; wait`, 300);
    expect(r).toEqual({ ok: false, detail: 'timed out after 0.3 s' });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await sleep(100);
    // The background child is gone too (or a zombie waiting for its reaper: dead either way).
    let state = 'gone';
    try {
      state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] ?? 'gone';
    } catch {
      // no such process
    }
    expect(['gone', 'Z', 'X']).toContain(state);
  });
});

describe('HealthChecks (agent)', () => {
  const H1 = '1'.repeat(40);
  const H2 = '2'.repeat(40);
  const texts: Record<string, string> = {
    [H1]: '[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nHealthCheck=check %i\nHealthCheckIntervalSec=100ms\n',
    [H2]: '[Service]\nExecStart=/bin/true\n',
  };

  function setup(results: (cmd: string) => HealthCheckResult) {
    const calls: string[] = [];
    let changes = 0;
    const checks = new HealthChecks({
      machineID: 'm1',
      log: createLogger('test', { level: 'silent' }),
      unitText: async (h) => texts[h] ?? null,
      onChange: () => {
        changes++;
      },
      run: async (cmd) => {
        calls.push(cmd);
        return results(cmd);
      },
    });
    return { checks, calls, changes: () => changes };
  }

  it('pending until the first check, then its result; specifiers expanded; only while active', async () => {
    let ok = false;
    const { checks, calls, changes } = setup(() =>
      ok ? { ok: true, detail: '' } : { ok: false, detail: 'exit 1' },
    );
    expect(await checks.fieldFor('db@7.service', H1, 'activating')).toEqual({
      health: { status: 'pending' },
    });
    expect(calls).toEqual([]);
    expect(await checks.fieldFor('db@7.service', H1, 'active')).toEqual({ health: { status: 'pending' } });
    await sleep(20);
    expect(calls).toEqual(['check 7']);
    expect(await checks.fieldFor('db@7.service', H1, 'active')).toEqual({
      health: { status: 'unhealthy', detail: 'exit 1' },
    });
    ok = true;
    await sleep(250);
    expect(await checks.fieldFor('db@7.service', H1, 'active')).toEqual({ health: { status: 'healthy' } });
    expect(changes()).toBe(2);
    // Not active any more: back to pending, no more checks.
    expect(await checks.fieldFor('db@7.service', H1, 'deactivating')).toEqual({
      health: { status: 'pending' },
    });
    const n = calls.length;
    await sleep(250);
    expect(calls.length).toBe(n);
    checks.stop();
  });

  it('units without a check have no health field; retain() stops checks of units gone', async () => {
    const { checks, calls } = setup(() => ({ ok: true, detail: '' }));
    expect(await checks.fieldFor('plain.service', H2, 'active')).toEqual({});
    await checks.fieldFor('db@1.service', H1, 'active');
    await sleep(20);
    checks.retain(['plain.service']);
    const n = calls.length;
    await sleep(250);
    expect(calls.length).toBe(n);
    checks.stop();
  });
});
