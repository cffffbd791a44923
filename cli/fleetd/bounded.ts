// Shutdown steps that talk to etcd get a time budget: with etcd unreachable, each call would wait
// for its deadline and retries, and SIGTERM must still finish within seconds (issue 13 item 4). A
// step that overruns is logged and left behind; what it could not write to etcd expires with the
// machine's lease.

import { errorMessage as message } from '../../units/common.js';
import type { Logger } from '../../units/log.js';

/** Waits for `work` at most `ms`; never rejects. Returns false when it failed or overran. */
export async function within(
  log: Logger,
  what: string,
  ms: number,
  work: Promise<unknown>,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<'overrun'>((resolve) => {
    timer = setTimeout(() => resolve('overrun'), ms);
  });
  const outcome = await Promise.race([
    work.then(
      () => 'done' as const,
      (err: unknown) => {
        log.warn({ err: message(err) }, `${what} failed`);
        return 'failed' as const;
      },
    ),
    overrun,
  ]);
  clearTimeout(timer);
  if (outcome === 'overrun')
    log.warn(
      { budgetMs: ms },
      `${what} did not finish within ${ms} ms (etcd unreachable?); going on without it`,
    );
  return outcome === 'done';
}
