// [X-Fleet] HealthCheck= (fleet-ts extension): a command the agent runs on the unit's machine while
// the unit is active; exit 0 within the timeout means healthy. The result is reported next to the
// unit's state (StateRecord.health) and gates rolling updates (cli/rollout/). Last value of each key
// wins, as systemd does for single-valued settings; an empty HealthCheck= means no check.
import { parseTimeSpanMs } from './stop-timeout.js';
import type { UnitOption } from './types.js';

export const HEALTH_CHECK_KEYS = ['HealthCheck', 'HealthCheckTimeoutSec', 'HealthCheckIntervalSec'] as const;

export const DEFAULT_HEALTH_TIMEOUT_MS = 10_000;
export const DEFAULT_HEALTH_INTERVAL_MS = 5_000;
/** Bounds that keep a typo (`HealthCheckIntervalSec=5ms`, `=10d`) from hammering or silencing a host. */
const MIN_SPAN_MS = 100;
const MAX_SPAN_MS = 3_600_000;

export interface HealthCheckSpec {
  /** Run with `/bin/sh -c`, specifiers %n %N %p %i already expanded by the agent. */
  readonly command: string;
  readonly timeoutMs: number;
  readonly intervalMs: number;
}

/** What an agent reports: `pending` until the first check of the current activation has finished. */
export type HealthStatus = 'pending' | 'healthy' | 'unhealthy';

export interface HealthReport {
  readonly status: HealthStatus;
  /** For `unhealthy`: one line, e.g. `exit 1: ERROR 2002 (HY000): Can't connect` or `timed out after 10 s`. */
  readonly detail?: string;
}

function lastValues(
  options: readonly UnitOption[],
): Partial<Record<(typeof HEALTH_CHECK_KEYS)[number], string>> {
  const out: Partial<Record<(typeof HEALTH_CHECK_KEYS)[number], string>> = {};
  for (const o of options) {
    if (o.section !== 'X-Fleet') continue;
    if ((HEALTH_CHECK_KEYS as readonly string[]).includes(o.name)) {
      out[o.name as (typeof HEALTH_CHECK_KEYS)[number]] = o.value;
    }
  }
  return out;
}

function span(raw: string | undefined, fallback: number): number | null {
  if (raw === undefined || raw.trim() === '') return fallback;
  const ms = parseTimeSpanMs(raw);
  return ms === null || ms < MIN_SPAN_MS || ms > MAX_SPAN_MS ? null : ms;
}

/** The unit's health check, or undefined when it declares none (or an invalid one: see validate). */
export function healthCheckOf(options: readonly UnitOption[]): HealthCheckSpec | undefined {
  const v = lastValues(options);
  const command = v.HealthCheck?.trim() ?? '';
  if (command === '') return undefined;
  const timeoutMs = span(v.HealthCheckTimeoutSec, DEFAULT_HEALTH_TIMEOUT_MS);
  const intervalMs = span(v.HealthCheckIntervalSec, DEFAULT_HEALTH_INTERVAL_MS);
  if (timeoutMs === null || intervalMs === null) return undefined;
  return { command, timeoutMs, intervalMs };
}

/** The first problem with the HealthCheck options, or null. */
export function validateHealthCheck(options: readonly UnitOption[]): string | null {
  const v = lastValues(options);
  for (const key of ['HealthCheckTimeoutSec', 'HealthCheckIntervalSec'] as const) {
    const raw = v[key];
    if (raw === undefined) continue;
    if (span(raw, 0) === null) {
      return `invalid ${key} value ${JSON.stringify(raw)}: expected a time span between 100ms and 1h (e.g. 10, 10s, 500ms, 1min)`;
    }
    if ((v.HealthCheck?.trim() ?? '') === '') return `${key} needs HealthCheck=`;
  }
  const command = v.HealthCheck ?? '';
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/u.test(command)) {
    return 'invalid HealthCheck value: control characters are not allowed';
  }
  return null;
}
