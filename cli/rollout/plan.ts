// Health-gated rolling update, pure part: given what the registry says about each instance now,
// decide which instance to replace next, when a replaced one counts as updated, and when to stop and
// roll back. `stepRollout` is a reducer over plain data (no clock, no I/O): the shell (./run.ts)
// observes the registry, calls it with the current time, writes the actions it returns and prints
// its events. Design notes: docs/rolling-update.md.
import type { HealthReport } from '../../units/health-check.js';

export interface RolloutSettings {
  /** Instances replaced at the same time (>= 1). */
  readonly maxParallel: number;
  /** An instance must be active (and healthy) without interruption this long to count as updated. */
  readonly minHealthyMs: number;
  /** From its replacement, an instance has this long to be updated; then the update fails. */
  readonly healthyDeadlineMs: number;
}

export const DEFAULT_ROLLOUT: RolloutSettings = {
  maxParallel: 1,
  minHealthyMs: 10_000,
  healthyDeadlineMs: 300_000,
};

/** One launched instance of the template, as the update found it. */
export interface RolloutInstance {
  readonly name: string;
  /** Contents it runs when the update starts. */
  readonly hash: string;
  /** What a rollback puts back: its own contents, or for an instance already on the new contents, the others'. */
  readonly rollbackHash?: string;
}

/** What the registry says about one instance now. */
export interface InstanceObservation {
  /** The job's contents; null when the unit no longer exists. */
  readonly jobHash: string | null;
  /** Report of the machine the unit is scheduled to, if that machine reported it. */
  readonly report?: {
    readonly machineID: string;
    readonly hash: string;
    readonly active: string;
    readonly sub: string;
    readonly health?: HealthReport;
  };
}

export type Phase =
  | { readonly kind: 'waiting' }
  | {
      readonly kind: 'replacing';
      readonly since: number;
      /** Since when it has been active (and healthy) without interruption. */
      readonly healthySince?: number;
      /** Last progress text, to print a line only when it changes. */
      readonly status: string;
    }
  | { readonly kind: 'updated'; readonly at: number }
  | { readonly kind: 'skipped'; readonly why: string }
  | { readonly kind: 'rolling-back'; readonly since: number; readonly to: string }
  | { readonly kind: 'rolled-back'; readonly active: boolean; readonly to: string }
  | { readonly kind: 'lost'; readonly why: string };

export interface RolloutState {
  readonly newHash: string;
  /** The new contents declare a HealthCheck=: instances must report `healthy`. */
  readonly healthCheck: boolean;
  readonly instances: readonly RolloutInstance[];
  readonly phases: Readonly<Record<string, Phase>>;
  /** Why the update stopped; undefined while it goes well. */
  readonly failure?: { readonly unit: string; readonly reason: string };
  readonly done: boolean;
}

export type RolloutAction =
  | { readonly kind: 'replace'; readonly unit: string; readonly from: string; readonly to: string }
  | { readonly kind: 'rollback'; readonly unit: string; readonly from: string; readonly to: string };

export interface RolloutEvent {
  readonly unit: string;
  readonly kind:
    | 'replaced'
    | 'adopted'
    | 'progress'
    | 'updated'
    | 'skipped'
    | 'failed'
    | 'rolling-back'
    | 'rolled-back'
    | 'lost';
  readonly text: string;
}

export interface RolloutStep {
  readonly state: RolloutState;
  readonly actions: readonly RolloutAction[];
  readonly events: readonly RolloutEvent[];
}

const short = (h: string): string => h.slice(0, 7);
const secs = (ms: number): string => `${Math.round(ms / 100) / 10}s`;

export function startRollout(
  instances: readonly RolloutInstance[],
  newHash: string,
  healthCheck: boolean,
): RolloutState {
  const phases: Record<string, Phase> = {};
  for (const i of instances) phases[i.name] = { kind: 'waiting' };
  return { newHash, healthCheck, instances: [...instances], phases, done: instances.length === 0 };
}

/** Is the instance running the new contents, active and (with a check) healthy? Else why not. */
function readiness(state: RolloutState, o: InstanceObservation): { ready: boolean; status: string } {
  const r = o.report;
  if (!r || r.hash !== state.newHash) return { ready: false, status: 'waiting for its machine to load it' };
  if (r.active !== 'active') return { ready: false, status: `${r.active} (${r.sub})` };
  if (!state.healthCheck) return { ready: true, status: 'active' };
  const h = r.health;
  if (!h) return { ready: false, status: 'active, no health report yet' };
  if (h.status === 'healthy') return { ready: true, status: 'active, healthy' };
  if (h.status === 'pending') return { ready: false, status: 'active, health check pending' };
  return { ready: false, status: `active, health check failing: ${h.detail ?? 'unhealthy'}` };
}

/**
 * One step of the update at time `now` (ms, any monotonic origin). Order of decisions: follow the
 * instances being replaced (updated, still waiting, or failed); on a failure, roll back every
 * instance not yet proven; otherwise fill the free slots, instances that are down first (they serve
 * nothing, so replacing them costs no availability), then by name.
 */
export function stepRollout(
  state: RolloutState,
  observed: ReadonlyMap<string, InstanceObservation>,
  now: number,
  settings: RolloutSettings,
): RolloutStep {
  if (state.done) return { state, actions: [], events: [] };
  const phases: Record<string, Phase> = { ...state.phases };
  const actions: RolloutAction[] = [];
  const events: RolloutEvent[] = [];
  let failure = state.failure;
  const fail = (unit: string, reason: string) => {
    failure ??= { unit, reason };
    events.push({ unit, kind: 'failed', text: reason });
  };
  const obs = (name: string): InstanceObservation => observed.get(name) ?? { jobHash: null };

  // Instances on the new contents before we touched them (another runner, an interrupted update):
  // they must prove themselves like the ones we replace.
  for (const i of state.instances) {
    if (failure || phases[i.name]?.kind !== 'waiting' || obs(i.name).jobHash !== state.newHash) continue;
    phases[i.name] = { kind: 'replacing', since: now, status: '' };
    events.push({
      unit: i.name,
      kind: 'adopted',
      text: `already on ${short(state.newHash)}; waiting until it is healthy`,
    });
  }

  for (const i of state.instances) {
    const p = phases[i.name];
    if (p?.kind !== 'replacing') continue;
    const o = obs(i.name);
    if (o.jobHash !== state.newHash) {
      const why =
        o.jobHash === null ? 'destroyed during the update' : `changed to ${short(o.jobHash)} by someone else`;
      phases[i.name] = { kind: 'lost', why };
      events.push({ unit: i.name, kind: 'lost', text: why });
      fail(i.name, `${i.name} was ${why}`);
      continue;
    }
    const { ready, status } = readiness(state, o);
    if (status !== p.status) events.push({ unit: i.name, kind: 'progress', text: status });
    const healthySince = ready ? (p.healthySince ?? now) : undefined;
    if (healthySince !== undefined && now - healthySince >= settings.minHealthyMs) {
      phases[i.name] = { kind: 'updated', at: now };
      events.push({
        unit: i.name,
        kind: 'updated',
        text: `updated (${state.healthCheck ? 'healthy' : 'active'} for ${secs(now - healthySince)}, ${secs(now - p.since)} after its replacement)`,
      });
      continue;
    }
    phases[i.name] = {
      kind: 'replacing',
      since: p.since,
      status,
      ...(healthySince !== undefined ? { healthySince } : {}),
    };
    if (o.report?.hash === state.newHash && o.report.active === 'failed') {
      fail(i.name, `${i.name} failed with the new contents (${o.report.sub})`);
    } else if (now - p.since >= settings.healthyDeadlineMs) {
      fail(
        i.name,
        `${i.name} was not ${state.healthCheck ? 'healthy' : 'active'} for ${secs(settings.minHealthyMs)} within ${secs(settings.healthyDeadlineMs)} of its replacement (${status})`,
      );
    }
  }

  if (failure) {
    for (const i of state.instances) {
      const p = phases[i.name];
      if (p?.kind === 'replacing') {
        const to = i.rollbackHash ?? (i.hash !== state.newHash ? i.hash : undefined);
        if (to === undefined) {
          phases[i.name] = { kind: 'lost', why: 'no previous contents to roll back to' };
          events.push({
            unit: i.name,
            kind: 'lost',
            text: 'left on the new contents: no previous contents known',
          });
          continue;
        }
        phases[i.name] = { kind: 'rolling-back', since: now, to };
        actions.push({ kind: 'rollback', unit: i.name, from: state.newHash, to });
        events.push({ unit: i.name, kind: 'rolling-back', text: `rolling back to ${short(to)}` });
      } else if (p?.kind === 'rolling-back') {
        const o = obs(i.name);
        if (o.jobHash === state.newHash) {
          actions.push({ kind: 'rollback', unit: i.name, from: state.newHash, to: p.to }); // write again
        } else if (o.jobHash !== p.to) {
          const why = o.jobHash === null ? 'destroyed' : `changed to ${short(o.jobHash)} by someone else`;
          phases[i.name] = { kind: 'lost', why };
          events.push({ unit: i.name, kind: 'lost', text: why });
        } else if (o.report?.hash === p.to && o.report.active === 'active') {
          phases[i.name] = { kind: 'rolled-back', active: true, to: p.to };
          events.push({
            unit: i.name,
            kind: 'rolled-back',
            text: `rolled back to ${short(p.to)}, active again`,
          });
        } else if (now - p.since >= settings.healthyDeadlineMs) {
          phases[i.name] = { kind: 'rolled-back', active: false, to: p.to };
          events.push({
            unit: i.name,
            kind: 'rolled-back',
            text: `rolled back to ${short(p.to)}, but not active within ${secs(settings.healthyDeadlineMs)} (${o.report ? `${o.report.active} (${o.report.sub})` : 'no report'})`,
          });
        }
      }
    }
  } else {
    let inFlight = state.instances.filter((i) => phases[i.name]?.kind === 'replacing').length;
    const down = (i: RolloutInstance) => (obs(i.name).report?.active === 'active' ? 1 : 0);
    const queue = state.instances
      .filter((i) => phases[i.name]?.kind === 'waiting')
      .sort((a, b) => down(a) - down(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const i of queue) {
      if (inFlight >= settings.maxParallel) break;
      const o = obs(i.name);
      if (o.jobHash !== i.hash) {
        const why = o.jobHash === null ? 'destroyed' : `changed to ${short(o.jobHash)} by someone else`;
        phases[i.name] = { kind: 'skipped', why };
        events.push({ unit: i.name, kind: 'skipped', text: `skipped: ${why}` });
        continue;
      }
      phases[i.name] = { kind: 'replacing', since: now, status: '' };
      actions.push({ kind: 'replace', unit: i.name, from: i.hash, to: state.newHash });
      const where = o.report ? ` on ${o.report.machineID.slice(0, 8)}` : '';
      events.push({
        unit: i.name,
        kind: 'replaced',
        text: `replacing${where} (${short(i.hash)} -> ${short(state.newHash)})`,
      });
      inFlight++;
    }
  }

  const busy = Object.values(phases).some(
    (p) => p.kind === 'replacing' || p.kind === 'rolling-back' || (!failure && p.kind === 'waiting'),
  );
  return {
    state: { ...state, phases, ...(failure ? { failure } : {}), done: !busy },
    actions,
    events,
  };
}

/** Counts for the summary line. */
export function rolloutCounts(state: RolloutState): Record<Phase['kind'], number> {
  const counts: Record<Phase['kind'], number> = {
    waiting: 0,
    replacing: 0,
    updated: 0,
    skipped: 0,
    'rolling-back': 0,
    'rolled-back': 0,
    lost: 0,
  };
  for (const p of Object.values(state.phases)) counts[p.kind]++;
  return counts;
}
