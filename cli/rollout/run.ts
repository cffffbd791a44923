// Health-gated rolling update, shell: observes the registry every poll, lets the pure planner
// (./plan.ts) decide, writes its replacements and rollbacks, and hands its events to the caller.
// Used by `fleetctl rolling-update` and by the watched directory's template rollout (cli/watch/).
import { setTimeout as defaultSleep } from 'node:timers/promises';
import type { Registry } from '../../registry/types.js';
import type { UnitOption } from '../../units/types.js';
import {
  type InstanceObservation,
  type RolloutEvent,
  type RolloutInstance,
  type RolloutSettings,
  type RolloutState,
  startRollout,
  stepRollout,
} from './plan.js';

/** The registry calls a rollout needs (fleetctl's clients of both drivers and the watcher's registry). */
export type RolloutClient = Pick<Registry, 'getUnit' | 'listUnitStates' | 'createUnit'>;

export interface RolloutTarget {
  readonly newHash: string;
  /** The new contents declare a HealthCheck=. */
  readonly healthCheck: boolean;
  readonly instances: readonly RolloutInstance[];
  /** Contents by hash: the new ones and every rollback target. */
  readonly contents: ReadonlyMap<string, readonly UnitOption[]>;
  /** Recorded on the units written (the watched directory's `watch:<dir>`); undefined for fleetctl. */
  readonly origin?: string;
}

export interface RunRolloutOptions {
  readonly settings: RolloutSettings;
  /** Each planner event, with the time since the update started. */
  readonly onEvent?: (event: RolloutEvent, elapsedMs: number) => void;
  readonly pollMs?: number;
  /** Asked before every step; false stops following the update (it stays where it is). */
  readonly shouldContinue?: () => boolean;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export interface RolloutOutcome {
  readonly state: RolloutState;
  readonly elapsedMs: number;
  /** shouldContinue() said stop before the update ended. */
  readonly interrupted: boolean;
}

async function observe(
  client: RolloutClient,
  names: readonly string[],
): Promise<Map<string, InstanceObservation>> {
  const units = await Promise.all(names.map((n) => client.getUnit(n)));
  const states = await client.listUnitStates();
  const out = new Map<string, InstanceObservation>();
  names.forEach((name, i) => {
    const u = units[i];
    if (!u) return;
    const r = states.find((s) => s.unit === name && s.machineID === u.machineID);
    out.set(name, {
      jobHash: u.hash,
      ...(r
        ? {
            report: {
              machineID: r.machineID,
              hash: r.hash,
              active: r.systemd.active,
              sub: r.systemd.sub,
              ...(r.health ? { health: r.health } : {}),
            },
          }
        : {}),
    });
  });
  return out;
}

export async function runRollout(
  client: RolloutClient,
  target: RolloutTarget,
  opts: RunRolloutOptions,
): Promise<RolloutOutcome> {
  const now = opts.now ?? (() => performance.now());
  const sleep = opts.sleep ?? defaultSleep;
  const pollMs = opts.pollMs ?? 500;
  const t0 = now();
  const names = target.instances.map((i) => i.name);
  let state = startRollout(target.instances, target.newHash, target.healthCheck);
  while (!state.done) {
    if (opts.shouldContinue && !opts.shouldContinue()) {
      return { state, elapsedMs: now() - t0, interrupted: true };
    }
    const observed = await observe(client, names);
    const step = stepRollout(state, observed, now() - t0, opts.settings);
    for (const e of step.events) opts.onEvent?.(e, now() - t0);
    for (const a of step.actions) {
      const options = target.contents.get(a.to);
      if (!options) throw new Error(`contents ${a.to} of ${a.unit} are not known`);
      // Only over the contents the planner saw: a unit changed meanwhile by someone else is not
      // overwritten (the next observation reports it).
      await client.createUnit(
        {
          name: a.unit,
          hash: a.to,
          options,
          desiredState: 'launched',
          ...(target.origin !== undefined ? { origin: target.origin } : {}),
        },
        { replace: true, expectHash: a.from },
      );
    }
    state = step.state;
    if (!state.done) await sleep(pollMs);
  }
  return { state, elapsedMs: now() - t0, interrupted: false };
}
