// How long a unit may take to stop, read from its [Service] section as systemd would
// (TimeoutStopSec=, else TimeoutSec=, else systemd's DefaultTimeoutStopSec of 90 s). StopOnDisconnect
// units use it as the stop bound: the agent force-kills a unit still running after it, and the engine
// waits that long after the machine's lease could have expired before placing the unit elsewhere.
import type { UnitOption } from './types.js';

/** systemd's DefaultTimeoutStopSec; also used for `infinity`, 0 and unreadable values. */
export const DEFAULT_STOP_TIMEOUT_MS = 90_000;

// systemd.time(7) units, in milliseconds.
const SPAN_UNITS_MS: Readonly<Record<string, number>> = {
  usec: 1e-3,
  us: 1e-3,
  µs: 1e-3,
  msec: 1,
  ms: 1,
  seconds: 1000,
  second: 1000,
  sec: 1000,
  s: 1000,
  '': 1000,
  minutes: 60_000,
  minute: 60_000,
  min: 60_000,
  m: 60_000,
  hours: 3_600_000,
  hour: 3_600_000,
  hr: 3_600_000,
  h: 3_600_000,
  days: 86_400_000,
  day: 86_400_000,
  d: 86_400_000,
  weeks: 604_800_000,
  week: 604_800_000,
  w: 604_800_000,
};

/** A systemd time span (`90`, `5s`, `1min 30s`, `500ms`) in ms; null for `infinity` or anything unreadable. */
export function parseTimeSpanMs(raw: string): number | null {
  const s = raw.trim();
  if (s === '' || s === 'infinity') return null;
  const term = /\s*(\d+(?:\.\d+)?)\s*([a-zµ]*)/y;
  let total = 0;
  while (term.lastIndex < s.length) {
    const m = term.exec(s);
    if (!m) return null;
    const unit = SPAN_UNITS_MS[m[2] ?? ''];
    if (unit === undefined) return null;
    total += Number(m[1]) * unit;
  }
  return total;
}

/** The unit's stop bound in ms (see the file comment). */
export function stopTimeoutMs(options: readonly UnitOption[]): number {
  let value: string | undefined;
  let fallback: string | undefined;
  for (const o of options) {
    if (o.section !== 'Service') continue;
    if (o.name === 'TimeoutStopSec') value = o.value;
    else if (o.name === 'TimeoutSec') fallback = o.value;
  }
  const ms = parseTimeSpanMs(value ?? fallback ?? '');
  return ms === null || ms <= 0 ? DEFAULT_STOP_TIMEOUT_MS : ms;
}
