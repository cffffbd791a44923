// The executor against the in-memory systemd and a temp units directory: consecutive starts, stops and
// unloads go to systemd as one batch call per kind, in fleet's task order, and a unit that fails inside
// a batch fails alone (the batch is retried one by one).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ExecuteDeps, executeTasks, type LoadedUnit } from '../../agent/execute.js';
import { type CurrentUnit, type DesiredUnit, planAgent } from '../../agent/plan.js';
import { InMemorySystemd } from '../../agent/systemd/fake.js';
import { contentHash, UnitFileStore } from '../../agent/unit-files.js';
import { createLogger } from '../../units/log.js';

const TEXT = '[Service]\nExecStart=/bin/sleep 1000\n';
const HASH = contentHash(TEXT);
const INSTALL_TEXT = `${TEXT}\n[Install]\nWantedBy=multi-user.target\n`;
const INSTALL_HASH = contentHash(INSTALL_TEXT);

let root = '';
let driver: InMemorySystemd;
let deps: ExecuteDeps;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'fleet-ts-execute-'));
  driver = new InMemorySystemd();
  const files = new UnitFileStore({ unitsDir: join(root, 'units'), systemdDir: join(root, 'system') });
  deps = {
    driver,
    files,
    unitText: async (h) => (h === HASH ? TEXT : h === INSTALL_HASH ? INSTALL_TEXT : null),
    log: createLogger('agent-execute-test', { level: 'silent' }),
    machineID: 'm1',
  };
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const want = (names: string[], desiredState: 'loaded' | 'launched' = 'launched'): DesiredUnit[] =>
  names.map((name) => ({ name, hash: HASH, desiredState, hasInstall: false }));
const have = (loaded: Map<string, LoadedUnit>): CurrentUnit[] =>
  [...loaded].map(([name, u]) => ({ name, hash: u.hash, state: u.state }));

describe('executeTasks batching', () => {
  it('loads N units with one daemon-reload and ONE start call, and remembers them as launched', async () => {
    const names = ['a.service', 'b.service', 'c.service'];
    const loaded = new Map<string, LoadedUnit>();
    const failures = await executeTasks(deps, planAgent(want(names), []), loaded);
    expect(failures).toEqual([]);
    expect(driver.callLog()).toEqual(['daemonReload', 'startUnits a.service b.service c.service']);
    expect(driver.running()).toEqual(names);
    expect([...loaded.values()].map((u) => u.state)).toEqual(['launched', 'launched', 'launched']);
  });

  it('skips the daemon-reload when the driver says systemd reads the new units on first start', async () => {
    const asked: string[][] = [];
    driver.reloadNeededFor = async (names) => {
      asked.push([...names]);
      return false;
    };
    const loaded = new Map<string, LoadedUnit>();
    const failures = await executeTasks(deps, planAgent(want(['a.service', 'b.service']), []), loaded);
    expect(failures).toEqual([]);
    expect(asked).toEqual([['a.service', 'b.service']]);
    expect(driver.callLog()).toEqual(['startUnits a.service b.service']);
    expect(driver.running()).toEqual(['a.service', 'b.service']);
  });

  it('reloads when the driver says systemd holds a changed unit, or cannot tell', async () => {
    driver.reloadNeededFor = async () => true;
    await executeTasks(deps, planAgent(want(['a.service']), []), new Map());
    expect(driver.callLog()).toEqual(['daemonReload', 'startUnit a.service']);
    const other = new InMemorySystemd();
    other.reloadNeededFor = async () => {
      throw new Error('systemctl list-units timed out');
    };
    await executeTasks({ ...deps, driver: other }, planAgent(want(['b.service']), []), new Map());
    expect(other.callLog()).toEqual(['daemonReload', 'startUnit b.service']);
  });

  it('a start that fails after a skipped reload is retried once after a daemon-reload', async () => {
    driver.reloadNeededFor = async () => false;
    driver.failUnit('b.service', 'start-throws');
    const reload = driver.daemonReload.bind(driver);
    driver.daemonReload = async () => {
      driver.healUnit('b.service'); // what a reload fixes: systemd now sees the file
      await reload();
    };
    const loaded = new Map<string, LoadedUnit>();
    const failures = await executeTasks(deps, planAgent(want(['a.service', 'b.service']), []), loaded);
    expect(failures).toEqual([]);
    expect(driver.callLog()).toEqual([
      'startUnits a.service b.service',
      'startUnit a.service',
      'startUnit b.service',
      'daemonReload',
      'startUnit b.service',
    ]);
    expect(driver.running()).toEqual(['a.service', 'b.service']);
    expect(loaded.get('b.service')?.state).toBe('launched');
  });

  it('one unit whose start throws fails alone: the batch is retried one by one', async () => {
    driver.failUnit('b.service', 'start-throws');
    const loaded = new Map<string, LoadedUnit>();
    const failures = await executeTasks(
      deps,
      planAgent(want(['a.service', 'b.service', 'c.service']), []),
      loaded,
    );
    expect(
      failures.map((f) => `${f.task.kind} ${f.task.kind === 'daemon-reload' ? '' : f.task.unit}`),
    ).toEqual(['start b.service']);
    expect(failures[0]?.error).toMatch(/b\.service/);
    expect(driver.callLog()).toEqual([
      'daemonReload',
      'startUnits a.service b.service c.service',
      'startUnit a.service',
      'startUnit b.service',
      'startUnit c.service',
    ]);
    expect(driver.running()).toEqual(['a.service', 'c.service']);
    expect(loaded.get('a.service')?.state).toBe('launched');
    expect(loaded.get('b.service')?.state).toBe('loaded'); // the next reconcile retries the start
    expect(loaded.get('c.service')?.state).toBe('launched');
  });

  it('stops and unloads in one call per kind, unloads before stops before starts', async () => {
    const loaded = new Map<string, LoadedUnit>();
    const all = ['a.service', 'b.service', 'c.service', 'd.service', 'e.service', 'f.service'];
    await executeTasks(deps, planAgent(want(all), []), loaded);
    driver.clearCalls();

    // a,b go away; c,d are stopped; e,f keep running.
    const next = [...want(['c.service', 'd.service'], 'loaded'), ...want(['e.service', 'f.service'])];
    const failures = await executeTasks(deps, planAgent(next, have(loaded)), loaded);
    expect(failures).toEqual([]);
    expect(driver.callLog()).toEqual([
      'stopUnits a.service b.service',
      'resetFailedUnits a.service b.service',
      'daemonReload',
      'stopUnits c.service d.service',
    ]);
    expect(driver.running()).toEqual(['e.service', 'f.service']);
    expect([...loaded.keys()].sort()).toEqual(['c.service', 'd.service', 'e.service', 'f.service']);
    expect(loaded.get('c.service')?.state).toBe('loaded');
    expect(existsSync(join(root, 'units/a.service'))).toBe(false);
    expect(existsSync(join(root, 'units/c.service'))).toBe(true);
  });

  it('unloading disables only the units whose file has an [Install] section', async () => {
    const loaded = new Map<string, LoadedUnit>();
    const units: DesiredUnit[] = [
      ...want(['plain.service']),
      { name: 'hooked.service', hash: INSTALL_HASH, desiredState: 'launched', hasInstall: true },
    ];
    await executeTasks(deps, planAgent(units, []), loaded);
    driver.clearCalls();
    expect(await executeTasks(deps, planAgent([], have(loaded)), loaded)).toEqual([]);
    expect(driver.callLog()).toEqual([
      'stopUnits hooked.service plain.service',
      'disableUnit hooked.service',
      'resetFailedUnits hooked.service plain.service',
      'daemonReload',
    ]);
    expect(loaded.size).toBe(0);
  });

  it('a unit that failed to load is not started with the batch; the others are', async () => {
    const loaded = new Map<string, LoadedUnit>();
    const tasks = planAgent(
      [
        ...want(['a.service', 'c.service']),
        { name: 'b.service', hash: 'f'.repeat(40), desiredState: 'launched', hasInstall: false },
      ],
      [],
    );
    const failures = await executeTasks(deps, tasks, loaded);
    expect(failures.map((f) => f.task.kind)).toEqual(['load']);
    expect(driver.callLog()).toEqual(['daemonReload', 'startUnits a.service c.service']);
    expect(loaded.has('b.service')).toBe(false);
  });

  it('writes many new unit files at once, and a failed one fails alone', async () => {
    let writing = 0;
    let most = 0;
    const write = deps.files.write.bind(deps.files);
    deps.files.write = async (name, text) => {
      writing++;
      most = Math.max(most, writing);
      try {
        if (name === 'u13.service') throw new Error('ENOSPC: no space left on device');
        await write(name, text);
      } finally {
        writing--;
      }
    };
    const names = Array.from({ length: 40 }, (_, i) => `u${i}.service`);
    const loaded = new Map<string, LoadedUnit>();
    const failures = await executeTasks(deps, planAgent(want(names), []), loaded);
    expect(failures.map((f) => [f.task.kind, f.error])).toEqual([
      ['load', 'ENOSPC: no space left on device'],
    ]);
    expect(most).toBeGreaterThan(1);
    const started = names.filter((n) => n !== 'u13.service');
    expect(driver.running()).toEqual([...started].sort());
    expect([...loaded.keys()].sort()).toEqual([...started].sort());
    for (const n of started) expect(existsSync(join(root, 'system', n)), n).toBe(true);
    expect(existsSync(join(root, 'system', 'u13.service'))).toBe(false);
  });
});
