// The one logger factory of fleet-ts. Quiet by default (warn), because fleetd runs under systemd and
// fleetctl shares the terminal with the user: routine events must not drown real problems.
// JSON lines go to stderr synchronously so that a crash never loses the line explaining it.

import type { Logger } from 'pino';
import { pino } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** pino level name; defaults to $FLEET_LOG_LEVEL, else 'warn'. */
  readonly level?: string;
  /** File descriptor to write to; defaults to 2 (stderr). */
  readonly dest?: number;
}

/** A logger for one component (e.g. 'agent', 'engine'); the component is bound on every line. */
export function createLogger(component: string, opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.FLEET_LOG_LEVEL ?? 'warn';
  const root = pino(
    {
      level,
      base: { svc: 'fleet-ts' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: opts.dest ?? 2, sync: true }),
  );
  return root.child({ component });
}
