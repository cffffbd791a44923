// Carries out a SyncPlan against the registry. Every write re-reads the unit first and only acts when
// the unit is still this directory's and still differs: a second watcher of an identical directory
// (another fleetd) that got there first turns our write into a no-op instead of a second write, and a
// unit taken over meanwhile by fleetctl is left alone. New units use createUnit's create-only
// transaction and replaces its compare-and-swap on the hash read (expectHash), so of two concurrent
// submits or replaces of the same version exactly one writes.
import { setTimeout as defaultSleep } from 'node:timers/promises';
import type { Registry } from '../../registry/types.js';
import type { Logger } from '../../units/log.js';
import type { SyncPlan, WatchAction } from './plan.js';

/** The part of the registry the watcher uses (fleetctl's client satisfies it too). */
export type WatchRegistry = Pick<
  Registry,
  'listUnits' | 'getUnit' | 'listUnitStates' | 'createUnit' | 'setDesiredState' | 'destroyUnit'
>;

export interface WaitActiveOptions {
  /** Give up waiting for one replaced instance after this long (the roll stops there). */
  readonly timeoutMs: number;
  readonly pollMs: number;
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

const errText = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'unknown error';

export async function executePlan(plan: SyncPlan, opts: ExecuteOptions): Promise<ExecuteResult> {
  const { registry, origin, log } = opts;
  const wait = opts.waitActive ?? DEFAULT_WAIT_ACTIVE;
  const sleep = opts.sleep ?? defaultSleep;
  const applied: WatchAction[] = [];
  const skipped: WatchAction[] = [];
  const failed: ActionFailure[] = [];
  const brokenTemplates = new Set<string>();
  const startedTemplates = new Set<string>();
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
    const newHash = action.kind === 'replace' ? action.spec.hash : '';
    if (roll) {
      if (brokenTemplates.has(roll.template)) continue;
      if (opts.shouldContinue && !opts.shouldContinue()) {
        interrupted = true;
        break;
      }
      if (!startedTemplates.has(roll.template)) {
        startedTemplates.add(roll.template);
        // An earlier, interrupted roll left these on the new contents: they must be healthy first,
        // or a broken new version would spread to every instance, one pass at a time.
        for (const peer of roll.updatedPeers) {
          const r = await waitUntilActive(registry, peer, newHash, wait, sleep);
          if (r !== 'active') {
            brokenTemplates.add(roll.template);
            failed.push({
              action,
              error: `rolling replace of ${roll.template} paused: ${peer} (new contents) is not active (${r})`,
            });
            break;
          }
        }
        if (brokenTemplates.has(roll.template)) continue;
      }
    }
    try {
      const wrote = await apply(registry, origin, action);
      done(action, wrote);
      if (roll && wrote) {
        const r = await waitUntilActive(registry, action.unit, newHash, wait, sleep);
        if (r !== 'active') {
          brokenTemplates.add(roll.template);
          failed.push({
            action,
            error: `rolling replace of ${roll.template} stopped: ${action.unit} did not become active with the new contents (${r}); remaining instances keep the old version`,
          });
        }
      }
    } catch (err) {
      if (roll) brokenTemplates.add(roll.template);
      failed.push({ action, error: `${action.kind} ${action.unit} failed: ${errText(err)}` });
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

export type ActiveWait = 'active' | 'timeout' | 'superseded';

/**
 * Waits until `unit` runs `hash`: launched by its agent and active in systemd, on its target machine
 * (or, for a global unit, on every machine reporting it). 'superseded' when the unit's contents
 * changed again or it disappeared (a newer pass owns it now).
 */
export async function waitUntilActive(
  registry: WatchRegistry,
  unit: string,
  hash: string,
  wait: WaitActiveOptions,
  sleep: (ms: number) => Promise<void> = defaultSleep,
): Promise<ActiveWait> {
  const deadline = Date.now() + wait.timeoutMs;
  for (;;) {
    const u = await registry.getUnit(unit);
    if (!u || u.hash !== hash) return 'superseded';
    const reports = (await registry.listUnitStates()).filter((r) => r.unit === unit);
    const ok = (r: (typeof reports)[number]) =>
      r.hash === hash && r.agentState === 'launched' && r.systemd.active === 'active';
    const active = u.global
      ? reports.length > 0 && reports.every(ok)
      : u.machineID !== undefined && reports.some((r) => r.machineID === u.machineID && ok(r));
    if (active) return 'active';
    if (Date.now() >= deadline) return 'timeout';
    await sleep(Math.min(wait.pollMs, Math.max(1, deadline - Date.now())));
  }
}
