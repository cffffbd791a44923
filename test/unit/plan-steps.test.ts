// The engine runs the planner in slices (engine/plan-steps.ts) so that timers and I/O (its lease
// keepalives) run during a big plan; the slices must not change what is planned.
import { describe, expect, it } from 'vitest';
import { planReconcile, planSteps } from '../../engine/plan.js';
import { runInSlices } from '../../engine/plan-steps.js';
import { machine, mid, state, unit } from './engine-fixtures.js';

function bigState() {
  const machines = Array.from({ length: 20 }, (_, i) =>
    machine(mid(i.toString(16).padStart(8, '0')), { role: i % 2 ? 'web' : 'db' }),
  );
  const units = Array.from({ length: 2000 }, (_, i) =>
    i % 5 === 0
      ? unit(`spread${i % 3}@${i}.service`, { conflicts: [`spread${i % 3}@*.service`] })
      : i % 5 === 1
        ? unit(`web${i}.service`, { metadata: { role: ['web'] } })
        : unit(`app${i}.service`),
  );
  return state(units, machines);
}

describe('runInSlices(planSteps(state))', () => {
  it('plans exactly what planReconcile plans, and lets timers run in between', async () => {
    const s = bigState();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      const plan = await runInSlices(planSteps(s), 0);
      expect(plan.changes).toEqual(planReconcile(s));
      expect(plan.changes.filter((c) => c.kind === 'put').length).toBeGreaterThan(1000);
      expect(ticks).toBeGreaterThan(0);
    } finally {
      clearInterval(timer);
    }
  });

  it('with a slice longer than the plan, gives the same plan without a turn', async () => {
    const s = bigState();
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    const plan = await runInSlices(planSteps(s), 3_600_000);
    expect(turned).toBe(false);
    expect(plan.changes).toEqual(planReconcile(s));
  });
});
