// Carries out a SyncPlan against the registry. Every write re-reads the unit first and acts only when it
// is still this directory's and still differs, and writes are create-only or compare the hash read, so
// two watchers of the same directory never both write.
// Design notes: docs/architecture.md, "cli/watch/execute.ts".
import type { Registry } from '../../registry/types.js';
import { errorLine } from '../../units/common.js';
import type { Logger } from '../../units/log.js';
import type { SyncPlan, WatchAction } from './plan.js';
import { type RollingAction, rollTemplate } from './rolling.js';

/** The part of the registry the watcher uses (fleetctl's client satisfies it too). */
export type WatchRegistry = Pick<
  Registry,
  'listUnits' | 'getUnit' | 'listUnitStates' | 'createUnit' | 'setDesiredState' | 'destroyUnit'
>;

/** The rollout settings of a template's instances (cli/rollout/, one instance at a time). */
export interface WaitActiveOptions {
  /** Give up on one replaced instance after this long: the roll stops and that instance is rolled back. */
  readonly timeoutMs: number;
  readonly pollMs: number;
  /** How long a replaced instance must be active (and healthy) to count; default 10 s. */
  readonly minHealthyMs?: number;
}

export const DEFAULT_WAIT_ACTIVE: WaitActiveOptions = { timeoutMs: 120_000, pollMs: 500 };

export interface ExecuteOptions {
  readonly registry: WatchRegistry;
  readonly origin: string;
  readonly log: Logger;
  readonly waitActive?: WaitActiveOptions;
  /** Asked between rolling steps; false stops the roll (the plan is stale, a new pass follows). */
  readonly shouldContinue?: () => boolean;
  /** Called after each action that wrote to the registry. */
  readonly onApplied?: (action: WatchAction) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Rollouts that failed, by template (kept by the watcher across passes): the same new contents are
   * not rolled again, which would restart an instance on every pass, until the file changes.
   */
  readonly failedRollouts?: Map<string, { readonly hash: string; readonly error: string }>;
}

export interface ActionFailure {
  readonly action: WatchAction;
  readonly error: string;
}

export interface ExecuteResult {
  /** Actions that wrote to the registry. */
  readonly applied: readonly WatchAction[];
  /** Actions found unnecessary on re-read (someone else did them, or the unit changed owner). */
  readonly skipped: readonly WatchAction[];
  readonly failed: readonly ActionFailure[];
  /** true when a roll was stopped because shouldContinue() said so. */
  readonly interrupted: boolean;
}

export async function executePlan(plan: SyncPlan, opts: ExecuteOptions): Promise<ExecuteResult> {
  const { registry, origin, log } = opts;
  const applied: WatchAction[] = [];
  const skipped: WatchAction[] = [];
  const failed: ActionFailure[] = [];
  const rolledTemplates = new Set<string>();
  let interrupted = false;

  const done = (a: WatchAction, wrote: boolean) => {
    if (wrote) {
      applied.push(a);
      opts.onApplied?.(a);
      log.info({ unit: a.unit, action: a.kind }, `unit directory: ${a.kind} ${a.unit}`);
    } else skipped.push(a);
  };

  for (const action of plan.actions) {
    const roll = action.kind === 'replace' ? action.rolling : undefined;
    if (roll) {
      if (rolledTemplates.has(roll.template)) continue;
      rolledTemplates.add(roll.template);
      if (opts.shouldContinue && !opts.shouldContinue()) {
        interrupted = true;
        break;
      }
      const group = plan.actions.filter(
        (a): a is RollingAction => a.kind === 'replace' && a.rolling?.template === roll.template,
      );
      const r = await rollTemplate(group, opts);
      for (const a of r.applied) done(a, true);
      if (r.failure) failed.push(r.failure);
      if (r.interrupted) {
        interrupted = true;
        break;
      }
      continue;
    }
    try {
      done(action, await apply(registry, origin, action));
    } catch (err) {
      failed.push({ action, error: `${action.kind} ${action.unit} failed: ${errorLine(err)}` });
    }
  }
  return { applied, skipped, failed, interrupted };
}

/** One action, after re-reading the unit. Returns whether it wrote. */
async function apply(registry: WatchRegistry, origin: string, action: WatchAction): Promise<boolean> {
  if (action.kind === 'submit') return registry.createUnit(action.spec);
  const current = await registry.getUnit(action.unit);
  if (action.kind === 'replace') {
    if (!current) return registry.createUnit(action.spec);
    if (current.origin !== origin || current.hash === action.spec.hash) {
      if (current.origin === origin && current.desiredState !== action.spec.desiredState) {
        await registry.setDesiredState(action.unit, action.spec.desiredState);
        return true;
      }
      return false;
    }
    // Only over the version just read: if another fleetd watching a copy of this directory replaced
    // it in between, this write must not happen a second time (expectHash makes that atomic).
    return registry.createUnit(action.spec, { replace: true, expectHash: current.hash });
  }
  if (!current || current.origin !== origin) return false;
  if (action.kind === 'set-state') {
    if (current.desiredState === action.to) return false;
    await registry.setDesiredState(action.unit, action.to);
    return true;
  }
  return registry.destroyUnit(action.unit);
}
