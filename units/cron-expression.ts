// Cron expressions of [X-Fleet] Schedule=, on croner's public API: one compile function shared by
// submit-time validation (units/schedule.ts) and the engine's tick computation (engine/cron/ticks.ts),
// so what was accepted at submit time is exactly what the engine computes ticks for.
// Design notes: docs/architecture.md, "units/cron-expression.ts".

import { Cron } from 'croner';
import { errorMessage } from './common.js';

export interface CompiledCron {
  /** Epoch ms of the first tick strictly after `afterMs`; null when there is none. */
  next(afterMs: number): number | null;
}

/** Compiles an expression; throws croner's message for a bad expression or an unknown time zone. */
export function compileCron(expression: string, timezone?: string): CompiledCron {
  const text = expression.trim();
  // croner's own count message mentions a seven-field form this syntax does not have.
  const fields = text.split(/\s+/).length;
  if (!text.startsWith('@') && fields !== 5 && fields !== 6)
    throw new Error(`expected 5 or 6 fields but got ${fields}`);
  const job = new Cron(text, {
    paused: true,
    domAndDow: true,
    mode: '5-or-6-parts',
    ...(timezone ? { timezone } : {}),
  });
  // Fail now for a bad time zone rather than at the first tick.
  job.nextRun(new Date(0));
  return {
    next: (afterMs) => job.nextRun(new Date(afterMs))?.getTime() ?? null,
  };
}

/** croner's complaint about an expression, or null when it compiles. */
export function cronExpressionError(expression: string): string | null {
  try {
    compileCron(expression);
    return null;
  } catch (err) {
    return errorMessage(err);
  }
}
