// The watched directory's template rollout: the launched instances of a changed template go through
// the same health-gated rolling update as `fleetctl rolling-update` (cli/rollout/), one at a time.
// A failed rollout is rolled back and remembered, so later passes do not restart an instance on every
// rescan with contents that just failed; it is tried again once the template file changes.
import { healthCheckOf } from '../../units/health-check.js';
import type { UnitOption } from '../../units/types.js';
import { DEFAULT_ROLLOUT, type RolloutInstance, rolloutCounts } from '../rollout/plan.js';
import { runRollout } from '../rollout/run.js';
import { type ActionFailure, DEFAULT_WAIT_ACTIVE, type ExecuteOptions } from './execute.js';
import type { WatchAction } from './plan.js';

export type RollingAction = Extract<WatchAction, { kind: 'replace' }>;

export interface TemplateRollResult {
  /** Instances now on the new contents, proven healthy. */
  readonly applied: readonly RollingAction[];
  readonly failure?: ActionFailure;
  readonly interrupted: boolean;
}

const short = (h: string): string => h.slice(0, 7);

/** Rolls one template's instances (all actions share `rolling.template` and the new contents). */
export async function rollTemplate(
  group: readonly RollingAction[],
  opts: ExecuteOptions,
): Promise<TemplateRollResult> {
  const first = group[0];
  const template = first?.rolling?.template;
  if (!first || !template) return { applied: [], interrupted: false };
  const { registry, origin, log } = opts;
  const newHash = first.spec.hash;
  const remembered = opts.failedRollouts?.get(template);
  if (remembered?.hash === newHash) {
    return { applied: [], failure: { action: first, error: remembered.error }, interrupted: false };
  }
  const contents = new Map<string, readonly UnitOption[]>([[newHash, first.spec.options]]);
  for (const a of group) {
    const u = await registry.getUnit(a.unit);
    if (u) contents.set(u.hash, u.options);
  }
  const instances: RolloutInstance[] = [
    ...(first.rolling?.updatedPeers ?? []).map((name) => ({
      name,
      hash: newHash,
      rollbackHash: first.previousHash,
    })),
    ...group.map((a) => ({ name: a.unit, hash: a.previousHash })),
  ];
  const wait = opts.waitActive ?? DEFAULT_WAIT_ACTIVE;
  log.info(
    { template, units: instances.map((i) => i.name) },
    `unit directory: rolling ${template} to ${short(newHash)} on ${instances.length} instance(s), one at a time`,
  );
  const outcome = await runRollout(
    registry,
    { newHash, healthCheck: healthCheckOf(first.spec.options) !== undefined, instances, contents, origin },
    {
      settings: {
        maxParallel: 1,
        minHealthyMs: wait.minHealthyMs ?? DEFAULT_ROLLOUT.minHealthyMs,
        healthyDeadlineMs: wait.timeoutMs,
      },
      pollMs: wait.pollMs,
      ...(opts.shouldContinue ? { shouldContinue: opts.shouldContinue } : {}),
      ...(opts.sleep ? { sleep: opts.sleep } : {}),
      onEvent: (e) =>
        log.info({ unit: e.unit, template, rollout: e.kind }, `unit directory: ${e.unit}: ${e.text}`),
    },
  );
  const updated = new Set(
    Object.entries(outcome.state.phases)
      .filter(([, p]) => p.kind === 'updated')
      .map(([name]) => name),
  );
  const applied = group.filter((a) => updated.has(a.unit));
  const f = outcome.state.failure;
  if (!f) {
    opts.failedRollouts?.delete(template);
    return { applied, interrupted: outcome.interrupted };
  }
  const counts = rolloutCounts(outcome.state);
  const error =
    `rolling replace of ${template} to ${short(newHash)} stopped: ${f.reason}; ` +
    `${counts['rolled-back']} rolled back, ${counts.waiting} kept the old version; ` +
    'not retried until the template file changes';
  opts.failedRollouts?.set(template, { hash: newHash, error });
  return { applied, failure: { action: first, error }, interrupted: outcome.interrupted };
}
