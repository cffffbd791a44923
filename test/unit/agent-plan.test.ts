import { describe, expect, it } from 'vitest';
import {
  type AgentTask,
  type CurrentUnit,
  type DesiredUnit,
  describeTask,
  hasInstallSection,
  planAgent,
  TASK_ORDER,
} from '../../agent/plan.js';

const H1 = 'a'.repeat(40);
const H2 = 'b'.repeat(40);

const want = (
  name: string,
  desiredState: 'loaded' | 'launched',
  hash = H1,
  hasInstall = false,
): DesiredUnit => ({
  name,
  hash,
  desiredState,
  hasInstall,
});
const have = (name: string, state: CurrentUnit['state'], hash: string | undefined = H1): CurrentUnit => ({
  name,
  hash,
  state,
});
const plan = (d: DesiredUnit[], c: CurrentUnit[]): string[] => planAgent(d, c).map(describeTask);

describe('planAgent: single-unit transitions (fleet agent/reconcile.go)', () => {
  const cases: { name: string; desired: DesiredUnit[]; current: CurrentUnit[]; tasks: string[] }[] = [
    { name: 'nothing anywhere', desired: [], current: [], tasks: [] },
    {
      name: 'new launched unit: load, reload, start',
      desired: [want('a.service', 'launched')],
      current: [],
      tasks: ['load a.service', 'daemon-reload', 'start a.service'],
    },
    {
      name: 'new loaded unit: load, reload, no start',
      desired: [want('a.service', 'loaded')],
      current: [],
      tasks: ['load a.service', 'daemon-reload'],
    },
    {
      name: 'loaded -> launched: start only, no reload',
      desired: [want('a.service', 'launched')],
      current: [have('a.service', 'loaded')],
      tasks: ['start a.service'],
    },
    {
      name: 'launched -> loaded: stop only',
      desired: [want('a.service', 'loaded')],
      current: [have('a.service', 'launched')],
      tasks: ['stop a.service'],
    },
    {
      name: 'launched and desired launched: nothing',
      desired: [want('a.service', 'launched')],
      current: [have('a.service', 'launched')],
      tasks: [],
    },
    {
      name: 'loaded and desired loaded: nothing',
      desired: [want('a.service', 'loaded')],
      current: [have('a.service', 'loaded')],
      tasks: [],
    },
    {
      name: 'no longer scheduled: unload, reload',
      desired: [],
      current: [have('a.service', 'launched')],
      tasks: ['unload a.service', 'daemon-reload'],
    },
    {
      name: 'stale file from a previous run: unload',
      desired: [],
      current: [have('old.service', 'inactive')],
      tasks: ['unload old.service', 'daemon-reload'],
    },
    {
      name: 'file present after restart and still scheduled: re-load and start (re-adopt)',
      desired: [want('a.service', 'launched')],
      current: [have('a.service', 'inactive')],
      tasks: ['load a.service', 'daemon-reload', 'start a.service'],
    },
    {
      name: 'hash changed while launched: unload, load, reload, start',
      desired: [want('a.service', 'launched', H2)],
      current: [have('a.service', 'launched', H1)],
      tasks: ['unload a.service', 'load a.service', 'daemon-reload', 'start a.service'],
    },
    {
      name: 'hash changed, desired loaded: unload, load, reload',
      desired: [want('a.service', 'loaded', H2)],
      current: [have('a.service', 'launched', H1)],
      tasks: ['unload a.service', 'load a.service', 'daemon-reload'],
    },
    {
      name: 'agent remembers the unit but its file vanished: load again',
      desired: [want('a.service', 'launched')],
      current: [{ name: 'a.service', hash: undefined, state: 'launched' }],
      tasks: ['load a.service', 'daemon-reload', 'start a.service'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(plan(c.desired, c.current)).toEqual(c.tasks);
    });
  }
});

describe('planAgent: batches', () => {
  it('orders unload < load < daemon-reload < stop < start across units, one reload per batch', () => {
    const tasks = plan(
      [
        want('start-me.service', 'launched'),
        want('stop-me.service', 'loaded'),
        want('new1.service', 'launched'),
        want('new2.socket', 'loaded'),
        want('changed.service', 'launched', H2),
      ],
      [
        have('start-me.service', 'loaded'),
        have('stop-me.service', 'launched'),
        have('gone.service', 'launched'),
        have('changed.service', 'launched', H1),
      ],
    );
    expect(tasks).toEqual([
      'unload changed.service',
      'unload gone.service',
      'load changed.service',
      'load new1.service',
      'load new2.socket',
      'daemon-reload',
      'stop stop-me.service',
      'start changed.service',
      'start new1.service',
      'start start-me.service',
    ]);
  });

  it('no daemon-reload when only starts and stops happen', () => {
    const tasks = planAgent(
      [want('a.service', 'launched'), want('b.service', 'loaded')],
      [have('a.service', 'loaded'), have('b.service', 'launched')],
    );
    expect(tasks.some((t) => t.kind === 'daemon-reload')).toBe(false);
    expect(tasks.map(describeTask)).toEqual(['stop b.service', 'start a.service']);
  });

  it('planning over the state a plan produces gives an empty plan', () => {
    const desired = [
      want('a.service', 'launched'),
      want('b.service', 'loaded', H2),
      want('c.timer', 'launched'),
    ];
    const current = [have('b.service', 'launched', H1), have('x.service', 'inactive')];
    const tasks = planAgent(desired, current);
    // Apply the tasks to a model of the current state.
    const after = new Map(current.map((c) => [c.name, c]));
    for (const t of tasks) {
      if (t.kind === 'unload') after.delete(t.unit);
      if (t.kind === 'load') after.set(t.unit, have(t.unit, 'loaded', t.hash));
      if (t.kind === 'start') after.set(t.unit, have(t.unit, 'launched', after.get(t.unit)?.hash));
      if (t.kind === 'stop') after.set(t.unit, have(t.unit, 'loaded', after.get(t.unit)?.hash));
    }
    expect(planAgent(desired, [...after.values()])).toEqual([]);
  });

  it('tasks are always sorted by fleet order', () => {
    const desired = Array.from({ length: 20 }, (_, i) =>
      want(`u${i}.service`, i % 2 ? 'launched' : 'loaded', i % 3 ? H1 : H2),
    );
    const current = Array.from({ length: 20 }, (_, i) =>
      have(`u${i + 7}.service`, (['inactive', 'loaded', 'launched'] as const)[i % 3] ?? 'inactive', H1),
    );
    const tasks = planAgent(desired, current);
    const order = tasks.map((t: AgentTask) => TASK_ORDER[t.kind]);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(tasks.filter((t) => t.kind === 'daemon-reload')).toHaveLength(1);
  });
});

describe('planAgent: [Install] units', () => {
  it('load of a unit with [Install] carries enable=true, others false', () => {
    const tasks = planAgent([want('i.service', 'launched', H1, true), want('n.service', 'launched')], []);
    const loads = tasks.filter((t) => t.kind === 'load');
    expect(loads.map((t) => [t.unit, t.kind === 'load' && t.enable])).toEqual([
      ['i.service', true],
      ['n.service', false],
    ]);
  });

  it('hasInstallSection finds a section header on its own line only', () => {
    expect(hasInstallSection('[Unit]\nDescription=x\n\n[Install]\nWantedBy=multi-user.target\n')).toBe(true);
    expect(hasInstallSection('[Service]\nExecStart=/bin/echo [Install]\n')).toBe(false);
    expect(hasInstallSection('[Service]\nExecStart=/bin/true\n')).toBe(false);
  });
});
