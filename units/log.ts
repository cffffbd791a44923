// The one logger factory of fleet-ts. Quiet by default (warn), because fleetd runs under systemd and
// fleetctl shares the terminal with the user: routine events must not drown real problems.
// JSON lines go to stderr synchronously so that a crash never loses the line explaining it.
// Design notes: docs/architecture.md, "units/log.ts".

import { fstatSync } from 'node:fs';
import type { DestinationStream, Logger } from 'pino';
import { pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  /** pino level name; defaults to $FLEET_LOG_LEVEL, else 'warn'. */
  readonly level?: string;
  /** File descriptor to write to; defaults to 2 (stderr). */
  readonly dest?: number;
  /** 'json' (default) or 'pretty'; defaults to $FLEET_LOG_FORMAT. */
  readonly format?: LogFormat;
  /** Prefix lines with `<N>` syslog priorities; default: when `dest` is the journal stream. */
  readonly journal?: boolean;
}

/** pino's numeric level -> syslog priority (sd-daemon(3) prefix). */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2; // fatal -> crit
  if (level >= 50) return 3; // error -> err
  if (level >= 40) return 4; // warn -> warning
  if (level >= 30) return 6; // info -> info
  return 7; // debug, trace -> debug
}

const LEVEL_RE = /"level":(\d+)/;

/** The line with its `<N>` prefix (the level is read from the JSON line pino produced). */
export function withPriority(line: string): string {
  const m = LEVEL_RE.exec(line);
  return `<${syslogPriority(m ? Number(m[1]) : 30)}>${line}`;
}

/**
 * Is `fd` the stream journald handed us? JOURNAL_STREAM is `<device>:<inode>` of that stream; a
 * redirected stderr (a file, a pipe to another program) does not match and gets no prefixes.
 */
export function isJournalStream(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const js = env.JOURNAL_STREAM;
  if (!js) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return js === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

function formatFrom(opts: LoggerOptions): LogFormat {
  const f = (opts.format ?? process.env.FLEET_LOG_FORMAT ?? 'json').toLowerCase();
  return f === 'pretty' ? 'pretty' : 'json';
}

/** A logger for one component (e.g. 'agent', 'engine'); the component is bound on every line. */
export function createLogger(component: string, opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.FLEET_LOG_LEVEL ?? 'warn';
  const fd = opts.dest ?? 2;
  const journal = opts.journal ?? isJournalStream(fd);
  const format = formatFrom(opts);
  const dest: DestinationStream =
    format === 'pretty'
      ? pretty({ destination: fd, sync: true, colorize: false, ignore: 'pid,hostname,svc' })
      : pino.destination({ dest: fd, sync: true });
  const root = pino(
    {
      level,
      base: { svc: 'fleet-ts' },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(journal && format === 'json' ? { hooks: { streamWrite: withPriority } } : {}),
    },
    dest,
  );
  return root.child({ component });
}
