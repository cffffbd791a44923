import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../support/fast-check-seed.js';
import {
  type InstanceObservation,
  type RolloutSettings,
  type RolloutState,
  type RolloutStep,
  rolloutCounts,
  startRollout,
  stepRollout,
} from '../../cli/rollout/plan.js';
import type { HealthReport } from '../../units/health-check.js';

const OLD = 'a'.repeat(40);
const NEW = 'b'.repeat(40);
const M = 'm1234567890';
const S: RolloutSettings = { maxParallel: 1, minHealthyMs: 10_000, healthyDeadlineMs: 60_000 };
const names = (n: number) => Array.from({ length: n }, (_, i) => `db@${i + 1}.service`);

type World = Map<string, InstanceObservation>;
const running = (hash: string, health?: HealthReport, active = 'active'): InstanceObservation => ({
  jobHash: hash,
  report: {
    machineID: M,
    hash,
    active,
    sub: active === 'active' ? 'running' : 'dead',
    ...(health ? { health } : {}),
  },
});
const world = (n: number, hash = OLD): World => new Map(names(n).map((u) => [u, running(hash)]));
const start = (n: number, health = false) =>
  startRollout(
    names(n).map((name) => ({ name, hash: OLD })),
    NEW,
    health,
  );

/** Applies the actions to the world the way the registry and agents would (instantly). */
function apply(w: World, step: RolloutStep, health?: HealthReport): void {
  for (const a of step.actions) w.set(a.unit, running(a.to, a.to === NEW ? health : undefined));
}

describe('rolling update planner', () => {
  it('replaces one instance at a time and counts it only after min-healthy-time', () => {
    const w = world(3);
    let s: RolloutState = start(3);
    let step = stepRollout(s, w, 0, S);
    expect(step.actions).toEqual([{ kind: 'replace', unit: 'db@1.service', from: OLD, to: NEW }]);
    apply(w, step);
    s = step.state;
    step = stepRollout(s, w, 1000, S); // active since 1 s
    expect(step.actions).toEqual([]);
    expect(step.events.map((e) => e.kind)).toEqual(['progress']);
    s = step.state;
    step = stepRollout(s, w, 10_999, S);
    expect(step.actions).toEqual([]);
    s = step.state;
    step = stepRollout(s, w, 11_000, S);
    expect(step.events.find((e) => e.kind === 'updated')?.unit).toBe('db@1.service');
    expect(step.actions).toEqual([{ kind: 'replace', unit: 'db@2.service', from: OLD, to: NEW }]);
  });

  it('resets the healthy clock when the instance stops being active', () => {
    const w = world(1);
    let step = stepRollout(start(1), w, 0, S);
    apply(w, step);
    step = stepRollout(step.state, w, 1000, S);
    w.set('db@1.service', running(NEW, undefined, 'activating'));
    step = stepRollout(step.state, w, 9000, S);
    w.set('db@1.service', running(NEW));
    step = stepRollout(step.state, w, 10_000, S);
    step = stepRollout(step.state, w, 19_999, S);
    expect(rolloutCounts(step.state).updated).toBe(0);
    step = stepRollout(step.state, w, 20_000, S);
    expect(rolloutCounts(step.state).updated).toBe(1);
    expect(step.state.done).toBe(true);
    expect(step.state.failure).toBeUndefined();
  });

  it('with a health check, waits for `healthy`; pending or failing checks do not count', () => {
    const w = world(2);
    let step = stepRollout(start(2, true), w, 0, S);
    apply(w, step, { status: 'pending' });
    step = stepRollout(step.state, w, 20_000, S);
    expect(step.events.map((e) => e.text)).toContain('active, health check pending');
    w.set('db@1.service', running(NEW, { status: 'unhealthy', detail: 'exit 1: no' }));
    step = stepRollout(step.state, w, 30_000, S);
    expect(step.events.map((e) => e.text)).toContain('active, health check failing: exit 1: no');
    w.set('db@1.service', running(NEW, { status: 'healthy' }));
    step = stepRollout(step.state, w, 31_000, S);
    expect(step.actions).toEqual([]);
    step = stepRollout(step.state, w, 41_000, S);
    expect(step.actions.map((a) => a.unit)).toEqual(['db@2.service']);
  });

  it('an active instance without a health report is not healthy when the contents declare a check', () => {
    const w = world(1);
    let step = stepRollout(start(1, true), w, 0, S);
    apply(w, step); // report without health (e.g. an old agent)
    step = stepRollout(step.state, w, 59_000, S);
    expect(rolloutCounts(step.state).updated).toBe(0);
    step = stepRollout(step.state, w, 60_000, S);
    expect(step.state.failure?.reason).toContain('no health report yet');
  });

  it('a failing health check past the deadline stops the update and rolls that instance back', () => {
    const w = world(3);
    let step = stepRollout(start(3, true), w, 0, S);
    apply(w, step, { status: 'unhealthy', detail: 'exit 1: wsrep not ready' });
    step = stepRollout(step.state, w, 59_999, S);
    expect(step.state.failure).toBeUndefined();
    step = stepRollout(step.state, w, 60_000, S);
    expect(step.state.failure).toEqual({
      unit: 'db@1.service',
      reason: expect.stringContaining('health check failing: exit 1: wsrep not ready'),
    });
    expect(step.actions).toEqual([{ kind: 'rollback', unit: 'db@1.service', from: NEW, to: OLD }]);
    expect(step.state.done).toBe(false);
    apply(w, step);
    step = stepRollout(step.state, w, 61_000, S);
    expect(step.events).toContainEqual(
      expect.objectContaining({ unit: 'db@1.service', kind: 'rolled-back' }),
    );
    expect(step.state.done).toBe(true);
    const counts = rolloutCounts(step.state);
    expect(counts).toMatchObject({ 'rolled-back': 1, waiting: 2, updated: 0 });
    // Nothing else was ever replaced.
    expect([...w.values()].filter((o) => o.jobHash === NEW)).toHaveLength(0);
  });

  it('an instance that fails in systemd fails the update at once', () => {
    const w = world(2);
    let step = stepRollout(start(2), w, 0, S);
    apply(w, step);
    w.set('db@1.service', running(NEW, undefined, 'failed'));
    step = stepRollout(step.state, w, 500, S);
    expect(step.state.failure?.reason).toContain('failed with the new contents');
    expect(step.actions[0]?.kind).toBe('rollback');
  });

  it('replaces down instances first, then by name, max-parallel at a time', () => {
    const w = world(4);
    w.set('db@3.service', running(OLD, undefined, 'failed'));
    const step = stepRollout(start(4), w, 0, { ...S, maxParallel: 2 });
    expect(step.actions.map((a) => a.unit)).toEqual(['db@3.service', 'db@1.service']);
  });

  it('on failure with parallel replacements, every unproven instance is rolled back, updated ones stay', () => {
    const w = world(3);
    const P = { ...S, maxParallel: 2 };
    let step = stepRollout(start(3), w, 0, P);
    apply(w, step);
    step = stepRollout(step.state, w, 1000, P);
    step = stepRollout(step.state, w, 11_000, P); // both updated; db@3 replaced
    expect(step.actions.map((a) => a.unit)).toEqual(['db@3.service']);
    apply(w, step);
    w.set('db@3.service', running(NEW, undefined, 'failed'));
    step = stepRollout(step.state, w, 12_000, P);
    expect(step.actions).toEqual([{ kind: 'rollback', unit: 'db@3.service', from: NEW, to: OLD }]);
    expect(rolloutCounts(step.state).updated).toBe(2);
  });

  it('adopts instances already on the new contents (an interrupted update) and gates them too', () => {
    const w = world(3);
    w.set('db@2.service', running(NEW, undefined, 'failed'));
    const s = startRollout(
      [
        { name: 'db@1.service', hash: OLD },
        { name: 'db@2.service', hash: NEW, rollbackHash: OLD },
        { name: 'db@3.service', hash: OLD },
      ],
      NEW,
      false,
    );
    const step = stepRollout(s, w, 0, S);
    expect(step.events[0]).toMatchObject({ unit: 'db@2.service', kind: 'adopted' });
    expect(step.actions).toEqual([{ kind: 'rollback', unit: 'db@2.service', from: NEW, to: OLD }]);
  });

  it('an instance changed by someone else mid-update stops the update without a rollback write', () => {
    const w = world(2);
    let step = stepRollout(start(2), w, 0, S);
    apply(w, step);
    w.set('db@1.service', running('c'.repeat(40)));
    step = stepRollout(step.state, w, 1000, S);
    expect(step.state.failure?.reason).toBe('db@1.service was changed to ccccccc by someone else');
    expect(step.actions).toEqual([]);
    expect(step.state.done).toBe(true);
  });

  it('skips an instance destroyed before its turn', () => {
    const w = world(2);
    w.delete('db@1.service');
    const step = stepRollout(start(2), w, 0, S);
    expect(step.events[0]).toMatchObject({ unit: 'db@1.service', kind: 'skipped' });
    expect(step.actions.map((a) => a.unit)).toEqual(['db@2.service']);
  });

  it('an empty update is done at once; a done update does nothing more', () => {
    const s = startRollout([], NEW, false);
    expect(s.done).toBe(true);
    expect(stepRollout(s, new Map(), 0, S)).toEqual({ state: s, actions: [], events: [] });
  });
});

/** A random world: each replaced instance becomes active after a delay, healthy or not, or fails. */
describe('rolling update planner, properties', () => {
  const fate = fc.record({
    activeAfter: fc.integer({ min: 0, max: 30_000 }),
    outcome: fc.constantFrom('healthy', 'unhealthy', 'failed', 'flapping'),
  });
  it('never exceeds max-parallel, never replaces after a failure, always ends, rolls back only what it replaced', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.array(fate, { minLength: 6, maxLength: 6 }),
        (n, maxParallel, healthCheck, fates) => {
          const settings = { maxParallel, minHealthyMs: 10_000, healthyDeadlineMs: 60_000 };
          const w = world(n);
          const replacedAt = new Map<string, number>();
          let s = start(n, healthCheck);
          let everFailed = false;
          const touched = new Set<string>();
          for (let t = 0; t <= 2_000_000 && !s.done; t += 1000) {
            // The world moves on.
            for (const [unit, at] of replacedAt) {
              const f = fates[names(n).indexOf(unit)];
              if (!f || w.get(unit)?.jobHash !== NEW) continue;
              const up = t - at >= f.activeAfter;
              const flapDown = f.outcome === 'flapping' && Math.floor(t / 7000) % 2 === 1;
              const active = !up
                ? 'activating'
                : f.outcome === 'failed'
                  ? 'failed'
                  : flapDown
                    ? 'activating'
                    : 'active';
              const health: HealthReport =
                f.outcome === 'unhealthy'
                  ? { status: 'unhealthy', detail: 'x' }
                  : up
                    ? { status: 'healthy' }
                    : { status: 'pending' };
              w.set(unit, running(NEW, healthCheck ? health : undefined, active));
            }
            const step = stepRollout(s, w, t, settings);
            if (everFailed) expect(step.actions.filter((a) => a.kind === 'replace')).toEqual([]);
            for (const a of step.actions) {
              if (a.kind === 'replace') {
                touched.add(a.unit);
                replacedAt.set(a.unit, t);
              } else {
                expect(touched.has(a.unit)).toBe(true);
                replacedAt.delete(a.unit);
              }
            }
            apply(w, { ...step, actions: step.actions.filter((a) => a.kind === 'rollback') });
            for (const a of step.actions)
              if (a.kind === 'replace') w.set(a.unit, running(NEW, undefined, 'activating'));
            s = step.state;
            everFailed ||= s.failure !== undefined;
            const replacing = Object.values(s.phases).filter((p) => p.kind === 'replacing').length;
            expect(replacing).toBeLessThanOrEqual(maxParallel);
          }
          expect(s.done).toBe(true);
          const counts = rolloutCounts(s);
          if (!s.failure) expect(counts.updated).toBe(n);
          else expect(counts.updated + counts['rolled-back'] + counts.waiting + counts.lost).toBe(n);
          // An instance counts as updated only with a fate that lets it be healthy.
          for (const [unit, p] of Object.entries(s.phases)) {
            if (p.kind !== 'updated') continue;
            const f = fates[names(n).indexOf(unit)];
            expect(f?.outcome === 'failed' || (healthCheck && f?.outcome === 'unhealthy')).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
