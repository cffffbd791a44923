// Restart generations (fleetctl restart): the pure parts on each side — the job/schedule/state record
// codecs, the engine copying the generation into every schedule record, the agent deciding which
// running units to restart, and fleetctl deciding when a machine has restarted.
import { describe, expect, it } from 'vitest';
import { planRestarts, RestartGenerations, type RestartRound } from '../../agent/restart.js';
import { parseRestartFile } from '../../agent/restart-file.js';
import { restartProgress } from '../../cli/fleetctl/restart-wait.js';
import { planReconcile } from '../../engine/plan.js';
import { decodeJob, decodeSchedule, decodeState, encodeJob } from '../../registry/records.js';
import type { UnitStateReport } from '../../units/types.js';
import { HASH_A, machine, mid, scheduleOf, state, step, unit } from './engine-fixtures.js';

describe('records', () => {
  it('keep the generation through encode/decode and omit 0', () => {
    const job = { name: 'a.service', hash: HASH_A, desiredState: 'launched' as const, restart: 3 };
    expect(decodeJob('job/a.service', encodeJob(job))).toEqual(job);
    expect(decodeJob('job/a.service', encodeJob({ ...job, restart: 0 }))).toEqual({
      ...job,
      restart: undefined,
    });
    expect('restart' in decodeSchedule('k', JSON.stringify({ hash: HASH_A, desiredState: 'loaded' }))).toBe(
      false,
    );
    expect(
      decodeState(
        'k',
        JSON.stringify({ hash: 'h', load: 'l', active: 'a', sub: 's', agentState: 'launched', restart: 2 }),
      ).restart,
    ).toBe(2);
  });

  it('refuse a generation that is not a non-negative integer', () => {
    for (const bad of [-1, 1.5, '2', null, 2 ** 60]) {
      expect(() =>
        decodeSchedule('k', JSON.stringify({ hash: HASH_A, desiredState: 'loaded', restart: bad })),
      ).toThrow(/restart/);
    }
  });
});

describe('engine', () => {
  const [m1, m2, m3] = [mid('1'), mid('2'), mid('3')];
  const machines = [machine(m1), machine(m2), machine(m3)];

  it('a bumped generation rewrites the record of a global unit on every machine, and nothing else', () => {
    const glob = unit('g.service', { global: true });
    const single = unit('s.service');
    const first = step(state([glob, single], machines));
    const bumped = { ...glob, restart: 1 };
    const plan = planReconcile(state([bumped, single], machines, first.schedule));
    expect(plan.map((c) => [c.kind, c.machineID, c.unit])).toEqual(
      [m1, m2, m3].map((m) => ['put', m, 'g.service']),
    );
    for (const c of plan)
      expect(c.kind === 'put' && c.record).toEqual({
        hash: HASH_A,
        desiredState: 'launched',
        global: true,
        restart: 1,
      });
  });

  it('a bumped generation rewrites the one record of a non-global unit in place (no move)', () => {
    const s = unit('s.service');
    const schedule = scheduleOf({ [m2]: { 's.service': { hash: HASH_A, desiredState: 'launched' } } });
    const plan = planReconcile(state([{ ...s, restart: 4 }], machines, schedule));
    expect(plan).toEqual([
      expect.objectContaining({
        kind: 'put',
        machineID: m2,
        unit: 's.service',
        record: { hash: HASH_A, desiredState: 'launched', restart: 4 },
      }),
    ]);
    // Converged: the same generation plans nothing.
    const after = scheduleOf({
      [m2]: { 's.service': { hash: HASH_A, desiredState: 'launched', restart: 4 } },
    });
    expect(planReconcile(state([{ ...s, restart: 4 }], machines, after))).toEqual([]);
  });
});

describe('agent: planRestarts', () => {
  const run = (unit: string, generation: number, running = true) => ({ unit, generation, running });

  it('first sight takes the generation as baseline: a restarted fleetd restarts nothing', () => {
    expect(planRestarts([run('a', 5)], new Map())).toEqual({ restart: [], applied: new Map([['a', 5]]) });
  });

  it('a grown generation restarts a running unit once', () => {
    const first = planRestarts(
      [run('a', 1), run('b', 1)],
      new Map([
        ['a', 0],
        ['b', 1],
      ]),
    );
    expect(first.restart).toEqual(['a']);
    expect(planRestarts([run('a', 1), run('b', 1)], first.applied).restart).toEqual([]);
  });

  it('a unit not running (just started, stopped, fenced) only moves its baseline', () => {
    const p = planRestarts([run('a', 2, false)], new Map([['a', 1]]));
    expect(p).toEqual({ restart: [], applied: new Map([['a', 2]]) });
  });

  it('forgets units no longer given, and a smaller generation (unit re-created) is a new baseline', () => {
    const p = planRestarts(
      [run('a', 0)],
      new Map([
        ['a', 3],
        ['gone', 1],
      ]),
    );
    expect(p).toEqual({ restart: [], applied: new Map([['a', 0]]) });
    expect(planRestarts([run('a', 1)], p.applied).restart).toEqual(['a']);
  });
});

describe('agent: RestartGenerations', () => {
  const round = (gen: number, over: Partial<RestartRound> = {}): RestartRound => ({
    desired: [{ name: 'a.service', desiredState: 'launched', generation: gen }],
    launchedBefore: new Set(['a.service']),
    touched: new Set(),
    launchedNow: () => true,
    ...over,
  });

  it('restarts through the driver, reports, and publishes the applied generation', async () => {
    const calls: string[] = [];
    const deps = {
      restartUnit: async (u: string) => {
        calls.push(`restart ${u}`);
      },
      onRestarted: (u: string, g: number) => calls.push(`ok ${u} ${g}`),
      onFailed: (u: string, g: number) => calls.push(`failed ${u} ${g}`),
    };
    const r = new RestartGenerations();
    expect(await r.apply(round(0), deps)).toBe(0);
    expect(await r.apply(round(1, { touched: new Set(['a.service']) }), deps)).toBe(0); // reloaded now
    expect(
      await r.apply(
        round(2, { desired: [{ name: 'a.service', desiredState: 'loaded', generation: 2 }] }),
        deps,
      ),
    ).toBe(0);
    expect(await r.apply(round(3), deps)).toBe(1);
    expect(r.generationOf('a.service')).toBe(3);
    expect(calls).toEqual(['restart a.service', 'ok a.service 3']);
    const failing = { ...deps, restartUnit: async () => Promise.reject(new Error('nope')) };
    expect(await r.apply(round(4), failing)).toBe(1);
    expect(calls.at(-1)).toBe('failed a.service 4');
    expect(r.generationOf('a.service')).toBe(4); // not retried in a loop
  });
});

describe('fleetctl: restartProgress', () => {
  const report = (active: string, restart?: number): UnitStateReport => ({
    unit: 'a.service',
    machineID: 'm',
    hash: HASH_A,
    systemd: { load: 'loaded', active, sub: 'x' },
    agentState: 'launched',
    ...(restart !== undefined ? { restart } : {}),
  });
  it('is done once the generation is applied and systemd says active (or failed)', () => {
    expect(restartProgress(report('active'), 1)).toBe('pending');
    expect(restartProgress(report('active', 0), 1)).toBe('pending');
    expect(restartProgress(report('activating', 1), 1)).toBe('pending');
    expect(restartProgress(report('active', 1), 1)).toBe('restarted');
    expect(restartProgress(report('active', 2), 1)).toBe('restarted');
    expect(restartProgress(report('failed', 1), 1)).toBe('failed');
  });
});

describe('agent: re-adopted units and the restart file', () => {
  it('a re-adopted running unit is restarted only when a saved generation is older', async () => {
    const calls: string[] = [];
    const deps = {
      restartUnit: async (u: string) => {
        calls.push(u);
      },
      onRestarted: () => undefined,
      onFailed: () => undefined,
    };
    const round = {
      desired: [{ name: 'a.service', desiredState: 'launched' as const, generation: 3 }],
      launchedBefore: new Set<string>(),
      touched: new Set(['a.service']),
      launchedNow: () => true,
      readopted: new Set(['a.service']),
    };
    let saved: ReadonlyMap<string, number> = new Map();
    const memory = (init: ReadonlyMap<string, number>) => ({
      load: () => init,
      save: (m: ReadonlyMap<string, number>) => {
        saved = m;
      },
    });
    expect(await new RestartGenerations(memory(new Map())).apply(round, deps)).toBe(0); // nothing saved: baseline
    expect(await new RestartGenerations(memory(new Map([['a.service', 3]]))).apply(round, deps)).toBe(0);
    expect(await new RestartGenerations(memory(new Map([['a.service', 2]]))).apply(round, deps)).toBe(1);
    expect(calls).toEqual(['a.service']);
    expect(saved).toEqual(new Map([['a.service', 3]]));
  });

  it('parseRestartFile trusts only this boot and valid generations', () => {
    const text = JSON.stringify({
      bootID: 'b1',
      applied: { 'a.service': 2, 'b.service': -1, 'c.service': 'x' },
    });
    expect(parseRestartFile(text, 'b1')).toEqual(new Map([['a.service', 2]]));
    expect(parseRestartFile(text, 'b2')).toEqual(new Map());
    expect(parseRestartFile('not json', 'b1')).toEqual(new Map());
  });
});
