// Placement reasons (engine/reasons.ts) and drain (plan.ts release + engine/drain.ts), pure parts: what an
// operator reads for a unit that waits, and how a drained machine empties one unit at a time.
import { describe, expect, it } from 'vitest';
import { DrainController } from '../../engine/drain.js';
import { planDetailed } from '../../engine/plan.js';
import { unplacedReasons } from '../../engine/reasons.js';
import type { MachineState } from '../../units/types.js';
import { machine, scheduleOf, state, step, unit, where } from './engine-fixtures.js';

const L = { hash: 'a'.repeat(40), desiredState: 'launched' } as const;
const drained = (m: MachineState): MachineState => ({ ...m, drained: true });

/** Plans and applies, like the engine: the applied state carries no release set. */
const apply = (s: ReturnType<typeof state>): ReturnType<typeof state> => {
  const { release: _released, ...next } = step(s).next;
  return next;
};

const reasonsOf = (s: ReturnType<typeof state>, stuck?: Map<string, string>) =>
  Object.fromEntries(unplacedReasons(s, planDetailed(s), stuck));

describe('placement reasons', () => {
  it('counts machines per reason, Nomad-style, largest group first', () => {
    const s = state(
      [
        unit('db.service', { metadata: { role: ['db'] }, conflicts: ['apache@*.service'] }),
        unit('apache@1.service'),
      ],
      [machine('m1', { role: 'web' }), machine('m2', { role: 'web' }), machine('m3', { role: 'db' })],
      scheduleOf({ m3: { 'apache@1.service': L } }),
    );
    expect(reasonsOf(s)).toEqual({
      'db.service': '3 machines: 2 lack role=db, 1 runs apache@1.service which conflicts',
    });
  });

  it('explains MachineID, missing peers, drained machines, empty clusters and unplaceable units', () => {
    const s = state(
      [
        unit('pinned.service', { machineID: 'nowhere' }),
        unit('follower.service', { machineOf: ['ghost.service'] }),
        unit('self.service', { machineOf: ['self.service'] }),
        unit('off.service', {}, 'inactive'),
      ],
      [machine('m1'), drained(machine('m2'))],
    );
    expect(reasonsOf(s)).toEqual({
      // equal counts: alphabetical order
      'pinned.service': '2 machines: 1 is drained, 1 does not match MachineID=nowhere',
      'follower.service': '2 machines: 1 is drained, 1 does not run peer ghost.service',
      'self.service': 'MachineOf names the unit itself',
    });
    expect(reasonsOf(state([unit('a.service')], []))).toEqual({ 'a.service': 'no machines in the cluster' });
  });

  it('has no reason for placed units, inactive units, and globals placed somewhere', () => {
    const s = state(
      [unit('a.service'), unit('g.service', { global: true, metadata: { role: ['x'] } })],
      [machine('m1', { role: 'x' }), machine('m2')],
    );
    expect(reasonsOf(s)).toEqual({});
    const none = state([unit('g.service', { global: true, metadata: { role: ['x'] } })], [machine('m1')]);
    expect(reasonsOf(none)).toEqual({ 'g.service': '1 machine: 1 lacks role=x' });
  });

  it('reports a unit stuck on its drained machine against the other machines', () => {
    const s = state(
      [unit('db.service', { metadata: { disk: ['ssd'] } })],
      [drained(machine('m1', { disk: 'ssd' })), machine('m2'), machine('m3')],
      scheduleOf({ m1: { 'db.service': L } }),
    );
    expect(reasonsOf(s, new Map([['db.service', 'm1']]))).toEqual({
      'db.service': 'stays on drained Machine(m1): 2 other machines: 2 lack disk=ssd',
    });
  });
});

describe('drain in the planner', () => {
  const machines = [drained(machine('m1')), machine('m2'), machine('m3')];

  it('places nothing new on a drained machine and keeps what runs there until released', () => {
    const s = state(
      [unit('a.service'), unit('b.service'), unit('new.service')],
      machines,
      scheduleOf({ m1: { 'a.service': L, 'b.service': L } }),
    );
    const { schedule } = step(s);
    expect(where(schedule)).toEqual({ 'a.service': ['m1'], 'b.service': ['m1'], 'new.service': ['m2'] });
  });

  it('moves exactly the released unit, by the normal rules', () => {
    const s = state(
      [unit('a.service'), unit('b.service', { conflicts: ['a.service'] })],
      machines,
      scheduleOf({ m1: { 'a.service': L }, m2: { 'b.service': L } }),
    );
    const { schedule, plan } = step({ ...s, release: new Set(['a.service']) });
    expect(where(schedule)).toEqual({ 'a.service': ['m3'], 'b.service': ['m2'] });
    expect(plan.find((c) => c.kind === 'delete')?.reason).toBe('moved off drained Machine(m1)');
  });

  it('keeps a released unit that fits nowhere else where it is (no change at all)', () => {
    const s = state(
      [unit('db.service', { metadata: { disk: ['ssd'] } })],
      [drained(machine('m1', { disk: 'ssd' })), machine('m2')],
      scheduleOf({ m1: { 'db.service': L } }),
    );
    expect(step({ ...s, release: new Set(['db.service']) }).plan).toEqual([]);
  });

  it('keeps the MachineOf followers of a released unit that cannot move with it', () => {
    const s = state(
      [unit('app.service', { machineID: 'm1' }), unit('side.service', { machineOf: ['app.service'] })],
      machines,
      scheduleOf({ m1: { 'app.service': L, 'side.service': L } }),
    );
    expect(step({ ...s, release: new Set(['app.service']) }).plan).toEqual([]);
    expect(step({ ...s, release: new Set(['side.service']) }).plan).toEqual([]);
  });

  it('keeps global units on a drained machine and still fans new globals out to it', () => {
    const s = state([unit('g.service', { global: true })], machines);
    expect(where(step(s).schedule)).toEqual({ 'g.service': ['m1', 'm2', 'm3'] });
  });
});

describe('drain controller', () => {
  it('releases one unit at a time, the next only after the previous is active at its new place', async () => {
    const active = new Set<string>();
    const ctl = new DrainController({ settled: async (m, u) => active.has(`${m} ${u}`) });
    let s = state(
      [unit('a.service'), unit('b.service')],
      [drained(machine('m1')), machine('m2')],
      scheduleOf({ m1: { 'a.service': L, 'b.service': L } }),
    );
    const first = await ctl.beforePlan(s);
    expect([...(first.release ?? [])]).toEqual(['a.service']);
    s = apply(first);
    expect(where(s.schedule)).toEqual({ 'a.service': ['m2'], 'b.service': ['m1'] });
    expect(ctl.active(s)).toBe(true);
    // a is not active on m2 yet: nothing more is released.
    expect((await ctl.beforePlan(s)).release).toBeUndefined();
    active.add('m2 a.service');
    const second = await ctl.beforePlan(s);
    expect([...(second.release ?? [])]).toEqual(['b.service']);
    s = apply(second);
    active.add('m2 b.service');
    expect((await ctl.beforePlan(s)).release).toBeUndefined();
    expect(ctl.active(s)).toBe(false);
  });

  it('reports a unit that cannot leave as stuck, moves on, and retries when machines change', async () => {
    const stuck: string[] = [];
    const ctl = new DrainController({ settled: async () => true, onStuck: (u) => stuck.push(u) });
    let s = state(
      [unit('db.service', { metadata: { disk: ['ssd'] } }), unit('web.service')],
      [drained(machine('m1', { disk: 'ssd' })), machine('m2')],
      scheduleOf({ m1: { 'db.service': L, 'web.service': L } }),
    );
    s = apply(await ctl.beforePlan(s)); // db released, stays
    const next = await ctl.beforePlan(s); // db stuck -> web released
    expect(stuck).toEqual(['db.service']);
    expect([...(next.release ?? [])]).toEqual(['web.service']);
    s = apply(next);
    expect(where(s.schedule)).toEqual({ 'db.service': ['m1'], 'web.service': ['m2'] });
    await ctl.beforePlan(s);
    expect([...ctl.stuck()]).toEqual([['db.service', 'm1']]);
    // A machine with an SSD joins: db is tried again and moves.
    s = { ...s, machines: new Map([...s.machines, ['m3', machine('m3', { disk: 'ssd' })]]) };
    const retry = await ctl.beforePlan(s);
    expect([...(retry.release ?? [])]).toEqual(['db.service']);
    expect(where(step(retry).schedule)['db.service']).toEqual(['m3']);
  });
});
