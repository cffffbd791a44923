// Pure parsers of `systemctl show` and `journalctl -o json` output, for the SystemctlDriver.

import type { SystemdState } from '../../units/types.js';
import { type SystemdRunResult, UNKNOWN_UNIT_STATE } from './driver.js';

/**
 * Parses `systemctl show -p Id,LoadState,ActiveState,SubState a b c`: one block of `Key=Value`
 * lines per requested unit, in request order, blocks separated by a blank line. Blocks are matched
 * to names by position (an alias reports its target's Id), with Id as fallback if the counts differ.
 */
export function parseShowOutput(text: string, names: readonly string[]): Map<string, SystemdState> {
  const blocks = text
    .split(/\n\s*\n/)
    .map((b) => b.trim())
    .filter((b) => b.length > 0)
    .map((b) => {
      const props = new Map<string, string>();
      for (const line of b.split('\n')) {
        const eq = line.indexOf('=');
        if (eq > 0) props.set(line.slice(0, eq), line.slice(eq + 1));
      }
      return props;
    });
  const toState = (p: Map<string, string>): SystemdState => ({
    load: p.get('LoadState') || UNKNOWN_UNIT_STATE.load,
    active: p.get('ActiveState') || UNKNOWN_UNIT_STATE.active,
    sub: p.get('SubState') || UNKNOWN_UNIT_STATE.sub,
  });
  const out = new Map<string, SystemdState>();
  if (blocks.length === names.length) {
    names.forEach((n, i) => {
      const b = blocks[i];
      out.set(n, b ? toState(b) : UNKNOWN_UNIT_STATE);
    });
    return out;
  }
  const byId = new Map<string, SystemdState>();
  for (const b of blocks) {
    const id = b.get('Id');
    if (id) byId.set(id, toState(b));
  }
  for (const n of names) out.set(n, byId.get(n) ?? UNKNOWN_UNIT_STATE);
  return out;
}

/** The host's realtime and monotonic clocks read at one moment (to place monotonic timestamps). */
export interface ClockSample {
  readonly realtimeMs: number;
  readonly monotonicUs: number;
}

/** Node's hrtime is CLOCK_MONOTONIC, the clock of systemd's *TimestampMonotonic properties. */
export function sampleClocks(): ClockSample {
  return { realtimeMs: Date.now(), monotonicUs: Number(process.hrtime.bigint() / 1000n) };
}

/**
 * Parses `systemctl show -p ActiveState,Result,ExecMainStatus,ExecMainStartTimestampMonotonic,
 * ExecMainExitTimestampMonotonic UNIT`. The monotonic properties are raw microseconds (0 when unset)
 * in every systemd since long before 239, whereas `--timestamp=unix` needs systemd 251 and the plain
 * timestamps are formatted in the local time zone; `clock` places them on the wall clock.
 */
export function parseRunStatus(text: string, clock: ClockSample): SystemdRunResult {
  const props = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) props.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  const stamp = (v: string | undefined): number | null => {
    const us = /^\d+$/.test(v ?? '') ? Number(v) : 0;
    return us > 0 ? Math.round(clock.realtimeMs - (clock.monotonicUs - us) / 1000) : null;
  };
  const status = props.get('ExecMainStatus');
  return {
    active: props.get('ActiveState') || 'inactive',
    result: props.get('Result') || 'success',
    execMainStatus: status !== undefined && /^\d+$/.test(status) ? Number(status) : null,
    startedAt: stamp(props.get('ExecMainStartTimestampMonotonic')),
    exitedAt: stamp(props.get('ExecMainExitTimestampMonotonic')),
  };
}

// MESSAGE_IDs systemd (PID 1) logs for a unit's job and result (systemd's sd-messages.h).
const MSG_UNIT_STARTING = '7d4958e842da4a758f6c1cdc7b36dcc5';
const MSG_UNIT_SUCCESS = '7ad2d189f7e94e70a38c781354912448';
const MSG_UNIT_PROCESS_EXIT = '98e322203f7a4ed290d09fe03c09fe15';
const MSG_UNIT_FAILURE_RESULT = 'd9b373ed55a64feb8242e02dbe79a49c';

/**
 * The last finished run of a unit from systemd's own journal messages (`journalctl -o json _PID=1
 * UNIT=name`, oldest first): its last "Starting" followed by "Deactivated successfully" or "Failed
 * with result". Null when the last start has not finished (or there is none).
 *
 * Why: systemd garbage-collects a unit that went inactive without failing and nothing references
 * (a cluster cron oneshot does exactly that within milliseconds); `systemctl show` then loads a fresh
 * copy with no timestamps or result, so only the journal still knows that the run happened.
 */
export function parseJournalRun(jsonLines: string): SystemdRunResult | null {
  let startedAt: number | null = null;
  let exitStatus: number | null = null;
  let finished: SystemdRunResult | null = null;
  for (const line of jsonLines.split('\n')) {
    if (!line.trim()) continue;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // journalctl prints one object a line; anything else is not ours to judge
    }
    const at = Math.floor(Number(e.__REALTIME_TIMESTAMP) / 1000);
    if (!Number.isFinite(at)) continue;
    switch (e.MESSAGE_ID) {
      case MSG_UNIT_STARTING:
        startedAt = at;
        exitStatus = null;
        finished = null;
        break;
      case MSG_UNIT_PROCESS_EXIT:
        if (typeof e.EXIT_STATUS === 'string' && /^\d+$/.test(e.EXIT_STATUS))
          exitStatus = Number(e.EXIT_STATUS);
        break;
      case MSG_UNIT_SUCCESS:
        if (startedAt !== null) {
          finished = {
            active: 'inactive',
            result: 'success',
            execMainStatus: exitStatus ?? 0,
            startedAt,
            exitedAt: at,
          };
        }
        break;
      case MSG_UNIT_FAILURE_RESULT:
        if (startedAt !== null) {
          const result = typeof e.UNIT_RESULT === 'string' && e.UNIT_RESULT ? e.UNIT_RESULT : 'failed';
          finished = { active: 'failed', result, execMainStatus: exitStatus, startedAt, exitedAt: at };
        }
        break;
    }
  }
  return finished;
}

/**
 * `systemctl list-units --all --plain --no-legend --full -- NAMES`: one line per unit systemd holds in
 * memory, `UNIT LOAD ACTIVE SUB [JOB] DESCRIPTION`, columns padded with spaces. Only the requested names
 * are kept; a unit systemd does not hold (never loaded, collected, or an alias) is simply not listed.
 */
export function parseListUnitsOutput(text: string, names: readonly string[]): Map<string, SystemdState> {
  const wanted = new Set(names);
  const out = new Map<string, SystemdState>();
  for (const line of text.split('\n')) {
    // A status glyph ("●", "*") precedes failed or not-found units when --plain is not honoured.
    const cols = line
      .trim()
      .split(/\s+/)
      .filter((c) => c !== '●' && c !== '*');
    const [name, load, active, sub] = cols;
    if (name && load && active && sub && wanted.has(name)) out.set(name, { load, active, sub });
  }
  return out;
}
