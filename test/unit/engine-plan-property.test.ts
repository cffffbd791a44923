// Property tests: whatever the cluster looks like, the applied plan is a valid schedule and planning
// it again changes nothing. The checks below re-derive validity independently of the scheduler.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyChanges, planReconcile } from '../../engine/plan.js';
import type { EngineState, EngineUnit } from '../../engine/store.js';
import { globMatch } from '../../units/glob.js';
import type { DesiredState, MachineState, Requirements, ScheduleRecord } from '../../units/types.js';
import { resolveRequirements } from '../../units/xfleet.js';
import { machine, mid, req } from './engine-fixtures.js';

const MACHINE_IDS = ['11111111', '22222222', '33333333', '44444444', '55555555'].map(mid);
const GONE = mid('99999999');
const NAMES = [
  'a.service',
  'b.service',
  'c.service',
  'web@1.service',
  'web@2.service',
  'web@3.service',
  'db@1.service',
  'db@2.service',
  'side.service',
  'g1.service',
  'g2.service',
];
const GLOBS = [
  'web@*.service',
  'db@?.service',
  '*.service',
  'a.service',
  'b.*',
  'side.service',
  'g1.service',
];
const STATES: DesiredState[] = ['inactive', 'loaded', 'launched'];

const unitArb = (name: string): fc.Arbitrary<EngineUnit> =>
  fc
    .record({
      desiredState: fc.constantFrom(...STATES),
      hash: fc.constantFrom('a'.repeat(40), 'b'.repeat(40)),
      global: fc.boolean(),
      machineID: fc.option(fc.constantFrom(...MACHINE_IDS, GONE, '22222222', '44444444'), { nil: undefined }),
      metadataR: fc.option(fc.subarray(['x', 'y'], { minLength: 1 }), { nil: undefined }),
      machineOf: fc.subarray(NAMES, { maxLength: 2 }),
      conflicts: fc.subarray(GLOBS, { maxLength: 2 }),
      replaces: fc.subarray([...GLOBS, ...NAMES], { maxLength: 2 }),
    })
    .map((r) => ({
      name,
      hash: r.hash,
      desiredState: r.desiredState,
      requirements: req({
        global: r.global,
        ...(r.machineID !== undefined ? { machineID: r.machineID } : {}),
        metadata: r.metadataR ? { r: r.metadataR } : {},
        machineOf: r.machineOf,
        conflicts: r.conflicts,
        replaces: r.replaces,
      }),
    }));

// Most units are plain; constraints appear often enough to interact.
const plainOr = (name: string): fc.Arbitrary<EngineUnit> =>
  fc.oneof(
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...STATES)
        .map((d) => ({ name, hash: 'a'.repeat(40), desiredState: d, requirements: req() })),
    },
    { weight: 3, arbitrary: unitArb(name) },
  );

const stateArb: fc.Arbitrary<EngineState> = fc
  .record({
    names: fc.subarray(NAMES),
    machines: fc.subarray(MACHINE_IDS, { minLength: 0 }),
    meta: fc.array(fc.option(fc.constantFrom('x', 'y'), { nil: undefined }), { minLength: 5, maxLength: 5 }),
  })
  .chain(({ names, machines, meta }) =>
    fc
      .record({
        units: fc.tuple(...names.map(plainOr)),
        schedule: fc.array(
          fc.record({
            machineID: fc.constantFrom(...MACHINE_IDS, GONE),
            unit: fc.constantFrom(...NAMES),
            record: fc.record({
              hash: fc.constantFrom('a'.repeat(40), 'b'.repeat(40)),
              desiredState: fc.constantFrom('loaded' as const, 'launched' as const),
              global: fc.constantFrom(undefined, true),
            }),
          }),
          { maxLength: 10 },
        ),
      })
      .map(({ units, schedule }) => {
        const ms: MachineState[] = machines.map((id) => {
          const r = meta[MACHINE_IDS.indexOf(id)];
          return machine(id, r ? { r } : {});
        });
        const sched = new Map<string, Map<string, ScheduleRecord>>();
        for (const e of schedule) {
          const rec: ScheduleRecord = e.record.global
            ? { ...e.record, global: true }
            : { hash: e.record.hash, desiredState: e.record.desiredState };
          const m = sched.get(e.machineID) ?? new Map<string, ScheduleRecord>();
          sched.set(e.machineID, m);
          m.set(e.unit, rec);
        }
        return {
          units: new Map(units.map((u) => [u.name, u])),
          machines: new Map(ms.map((m) => [m.id, m])),
          schedule: sched,
        };
      }),
  );

/** Requirements as the scheduler must read them: specifiers expanded against the unit's name. */
const resolvedCache = new WeakMap<EngineUnit, Requirements>();
function resolved(u: EngineUnit): Requirements {
  let r = resolvedCache.get(u);
  if (!r) {
    r = resolveRequirements(u.requirements, u.name);
    resolvedCache.set(u, r);
  }
  return r;
}

function conflicts(a: EngineUnit, b: EngineUnit): boolean {
  if (a.name === b.name) return false;
  return (
    resolved(a).conflicts.some((p) => globMatch(p, b.name)) ||
    resolved(b).conflicts.some((p) => globMatch(p, a.name))
  );
}

/** Does `from` reach `to` through Replaces edges (patterns matching other existing units)? */
function replaceReaches(s: EngineState, from: string, to: string): boolean {
  const seen = new Set<string>([from]);
  const queue = [from];
  while (queue.length > 0) {
    const cur = s.units.get(queue.shift()!);
    const patterns = cur ? resolved(cur).replaces : [];
    for (const next of s.units.keys()) {
      if (next === cur?.name || seen.has(next)) continue;
      if (!patterns.some((p) => globMatch(p, next))) continue;
      if (next === to) return true;
      seen.add(next);
      queue.push(next);
    }
  }
  return false;
}

/** Every rule a valid schedule obeys, re-derived without the scheduler; returns the violations. */
function violations(
  s: EngineState,
  schedule: ReadonlyMap<string, ReadonlyMap<string, ScheduleRecord>>,
): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const onPresent = new Set<string>();
  for (const [machineID, entries] of schedule)
    if (s.machines.has(machineID)) for (const name of entries.keys()) onPresent.add(name);
  for (const [machineID, entries] of schedule) {
    const m = s.machines.get(machineID);
    if (!m) {
      // Kept where it was until it runs elsewhere (global units: always kept), never for a unit gone.
      for (const name of entries.keys()) {
        const u = s.units.get(name);
        if (!u || u.desiredState === 'inactive') problems.push(`${name} kept on absent ${machineID}`);
        else if (!resolved(u).global && onPresent.has(name))
          problems.push(`${name} on absent ${machineID} and elsewhere`);
      }
      continue;
    }
    const here = [...entries.keys()].flatMap((n) => s.units.get(n) ?? []);
    for (const [name, record] of entries) {
      const u = s.units.get(name);
      if (!u) {
        problems.push(`destroyed unit ${name} scheduled`);
        continue;
      }
      const r = resolved(u);
      if (u.desiredState === 'inactive') problems.push(`inactive ${name} scheduled`);
      if (
        record.hash !== u.hash ||
        record.desiredState !== u.desiredState ||
        (r.global ? record.global !== true : 'global' in record)
      ) {
        problems.push(`${name} has record ${JSON.stringify(record)}`);
      }
      if (!r.global) {
        if (seen.has(name)) problems.push(`${name} on two machines`);
        seen.set(name, machineID);
      }
      if (r.machineID !== undefined && r.machineID !== machineID && r.machineID !== machineID.slice(0, 8)) {
        problems.push(`${name} MachineID ${r.machineID} on ${machineID}`);
      }
      for (const [key, values] of Object.entries(r.metadata)) {
        if (!values.includes(m.metadata[key] ?? '\u0000'))
          problems.push(`${name} metadata ${key} on ${machineID}`);
      }
      for (const peer of r.machineOf) if (!entries.has(peer)) problems.push(`${name} without peer ${peer}`);
      for (const other of here) {
        if (conflicts(u, other)) problems.push(`${name} conflicts with ${other.name} on ${machineID}`);
        // A unit never shares a machine with a unit replacing it, unless the replacement is circular.
        if (
          other.name !== name &&
          resolved(other).replaces.some((p) => globMatch(p, name)) &&
          !replaceReaches(s, name, other.name)
        ) {
          problems.push(`${other.name} replaces ${name} on ${machineID}`);
        }
      }
    }
  }
  return problems;
}

function checkValid(
  s: EngineState,
  schedule: ReadonlyMap<string, ReadonlyMap<string, ScheduleRecord>>,
): void {
  expect(violations(s, schedule)).toEqual([]);
}

describe('planReconcile properties', () => {
  it('the applied plan is valid and re-planning it yields an empty plan', () => {
    fc.assert(
      fc.property(stateArb, (s) => {
        const plan = planReconcile(s);
        const schedule = applyChanges(s.schedule, plan);
        checkValid(s, schedule);
        expect(planReconcile({ ...s, schedule })).toEqual([]);
      }),
      { numRuns: 3000 },
    );
  });

  it('plans do not depend on map insertion order', () => {
    fc.assert(
      fc.property(stateArb, (s) => {
        const reversed: EngineState = {
          units: new Map([...s.units].reverse()),
          machines: new Map([...s.machines].reverse()),
          schedule: new Map([...s.schedule].reverse().map(([m, e]) => [m, new Map([...e].reverse())])),
        };
        expect(planReconcile(reversed)).toEqual(planReconcile(s));
      }),
      { numRuns: 1000 },
    );
  });

  it('an unconstrained active unit is always placed when some machine exists', () => {
    fc.assert(
      fc.property(stateArb, (s) => {
        fc.pre(s.machines.size > 0);
        const free: EngineUnit = {
          name: 'free-zz.service',
          hash: 'c'.repeat(40),
          desiredState: 'launched',
          requirements: req(),
        };
        // Nobody may conflict with or replace it: strip patterns that could match its name.
        const units = new Map<string, EngineUnit>(
          [...s.units].map(([n, u]): [string, EngineUnit] => [
            n,
            {
              ...u,
              requirements: {
                ...u.requirements,
                conflicts: u.requirements.conflicts.filter((p) => !globMatch(p, free.name)),
                replaces: u.requirements.replaces.filter((p) => !globMatch(p, free.name)),
              },
            },
          ]),
        );
        units.set(free.name, free);
        const schedule = applyChanges(s.schedule, planReconcile({ ...s, units }));
        const placed = [...schedule.values()].filter((e) => e.has(free.name)).length;
        expect(placed).toBe(1);
      }),
      { numRuns: 500 },
    );
  });
});

describe('planReconcile at scale', () => {
  // A deterministic pseudo-random cluster (seeded LCG) much larger than fast-check's: 2000 units
  // with every kind of constraint on 30 machines, a third of them already scheduled (some wrongly).
  function bigCluster(seed: number): EngineState {
    let x = seed;
    const rand = (n: number): number => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x % n;
    };
    const machines = Array.from({ length: 30 }, (_, i) =>
      machine(mid(String(10_000_000 + i)), rand(3) === 0 ? {} : { r: rand(2) ? 'x' : 'y' }),
    );
    const names = Array.from({ length: 2000 }, (_, i) =>
      rand(4) === 0 ? `tpl${rand(20)}@${i}.service` : `u${i}.service`,
    );
    const pick = (): string => names[rand(names.length)]!;
    const units: EngineUnit[] = names.map((name) => {
      const k = rand(20);
      return {
        name,
        hash: 'a'.repeat(40),
        desiredState: STATES[rand(3)]!,
        requirements: req({
          global: k === 0 && rand(4) === 0,
          ...(k === 1 ? { machineID: machines[rand(machines.length)]!.id.slice(0, 8) } : {}),
          metadata: k === 2 ? { r: ['x'] } : {},
          machineOf: k === 3 ? [pick()] : [],
          conflicts: k === 4 ? ['%p@*.service'] : k === 5 ? [pick()] : [],
          replaces: k === 6 && rand(5) === 0 ? [pick()] : [],
        }),
      };
    });
    const schedule = new Map<string, Map<string, ScheduleRecord>>();
    for (let i = 0; i < 700; i++) {
      const m = rand(4) === 0 ? GONE : machines[rand(machines.length)]!.id;
      const entries = schedule.get(m) ?? new Map<string, ScheduleRecord>();
      schedule.set(m, entries);
      entries.set(pick(), { hash: 'a'.repeat(40), desiredState: 'launched' });
    }
    return {
      units: new Map(units.map((u) => [u.name, u])),
      machines: new Map(machines.map((m) => [m.id, m])),
      schedule,
    };
  }

  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: valid, idempotent, most units placed`, () => {
      const s = bigCluster(seed);
      const schedule = applyChanges(s.schedule, planReconcile(s));
      checkValid(s, schedule);
      expect(planReconcile({ ...s, schedule })).toEqual([]);
      const placed = [...schedule.values()].reduce((n, e) => n + e.size, 0);
      expect(placed).toBeGreaterThan(500);
    });
  }
});
