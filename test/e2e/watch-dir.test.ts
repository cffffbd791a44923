// Issue 9 on real machines: one machine's fleetd watches /var/lib/fleet-watch (unit_watch_directory).
// A unit file dropped there (written inside that machine) ends up running on the machine its
// X-Fleet section picks, the other one; renaming it to `.loaded` stops it; deleting it destroys it
// everywhere. A malformed file is left out without disturbing the others.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureBuilt,
  fleetctlOk,
  hasUnitFile,
  isActive,
  listUnits,
  loadState,
  machineNamed,
  PROJECT,
  until,
} from '../support/fleet-e2e.js';
import { type Cluster, createCluster } from '../support/nspawn.js';

const WATCHER = 'watch1';
const WORKER = 'watch2';
const DIR = '/var/lib/fleet-watch';
const UNIT = 'dropped.service';
const BODY = [
  '[Unit]',
  'Description=dropped into the watched directory',
  '',
  '[Service]',
  'ExecStart=/bin/sh -c "echo dropped on %H; exec sleep 100000"',
  '',
  '[X-Fleet]',
  'MachineMetadata=role=worker',
  '',
].join('\n');

let cluster: Cluster | undefined;

function c(): Cluster {
  if (!cluster) throw new Error('cluster did not boot');
  return cluster;
}

/** Writes a file into the watched directory the way an editor or config tool does: temp + rename. */
async function drop(name: string, contents: string): Promise<void> {
  await c().execOk(
    WATCHER,
    ['sh', '-c', `cat > '${DIR}/.${name}.tmp' && mv '${DIR}/.${name}.tmp' '${DIR}/${name}'`],
    {
      input: contents,
    },
  );
}

async function unitFiles(): Promise<Map<string, { dstate: string; state: string }>> {
  const out = await fleetctlOk(c(), ['list-unit-files', '--no-legend', '--fields=unit,dstate,state']);
  const m = new Map<string, { dstate: string; state: string }>();
  for (const l of out.split('\n')) {
    const [unit, dstate = '', state = ''] = l.split('\t').filter((f) => f !== '');
    if (unit) m.set(unit, { dstate, state });
  }
  return m;
}

beforeAll(async () => {
  ensureBuilt();
  cluster = await createCluster({
    machines: [
      {
        name: WATCHER,
        metadata: { role: 'edge' },
        fleetConf: { agent_ttl: '5s', unit_watch_directory: DIR },
        startFleetd: false,
      },
      { name: WORKER, metadata: { role: 'worker' }, fleetConf: { agent_ttl: '5s' }, startFleetd: true },
    ],
    projectDir: PROJECT,
  });
  await c().execOk(WATCHER, ['mkdir', '-p', DIR]);
  await c().startFleetd(WATCHER);
  await until('both machines in list-machines', 60_000, async () => {
    const out = await fleetctlOk(c(), ['list-machines', '--no-legend']);
    return out.split('\n').filter((l) => l.trim()).length === 2 ? true : undefined;
  });
});

afterAll(async () => {
  await cluster?.teardown();
});

describe('watched unit directory on real machines', () => {
  it('runs a unit file dropped into the directory, on the machine its X-Fleet picks', async () => {
    await drop(UNIT, BODY);
    const row = await until(`${UNIT} active/running in list-units`, 60_000, async () =>
      (await listUnits(c())).find((u) => u.unit === UNIT && u.active === 'active' && u.sub === 'running'),
    );
    expect(machineNamed(c(), row.machineID)).toBe(WORKER);
    expect(await isActive(c(), WORKER, UNIT)).toBe('active');
    expect(await hasUnitFile(c(), WORKER, UNIT)).toBe(true);
    expect(await hasUnitFile(c(), WATCHER, UNIT)).toBe(false);
    expect((await unitFiles()).get(UNIT)).toEqual({ dstate: 'launched', state: 'launched' });
    // The registry holds exactly the dropped contents.
    expect((await fleetctlOk(c(), ['cat', UNIT])).trim()).toBe(BODY.trim());
  });

  it('leaves a malformed file out and still picks up good files next to it', async () => {
    await drop('broken.service', '[Service\nExecStart=/bin/true\n');
    await drop('second.service', BODY.replace('dropped on', 'second on'));
    await until('second.service active/running', 60_000, async () =>
      (await listUnits(c())).some((u) => u.unit === 'second.service' && u.active === 'active')
        ? true
        : undefined,
    );
    const files = await unitFiles();
    expect(files.has('broken.service')).toBe(false);
    expect(files.get(UNIT)?.dstate).toBe('launched');
    // fleetd says why, in one line naming the file.
    const log = await c().execOk(WATCHER, ['journalctl', '-u', 'fleet.service', '--no-pager', '-o', 'cat']);
    expect(log).toContain('broken.service');
  });

  it('renaming the file to .loaded stops the unit without destroying it', async () => {
    await c().execOk(WATCHER, ['mv', `${DIR}/${UNIT}`, `${DIR}/${UNIT}.loaded`]);
    await until(`${UNIT} stopped on ${WORKER}`, 60_000, async () =>
      (await isActive(c(), WORKER, UNIT)) === 'inactive' ? true : undefined,
    );
    await until(`${UNIT} loaded in list-unit-files`, 30_000, async () => {
      const f = (await unitFiles()).get(UNIT);
      return f?.dstate === 'loaded' && f.state === 'loaded' ? true : undefined;
    });
    expect(await hasUnitFile(c(), WORKER, UNIT)).toBe(true);
  });

  it('deleting the file destroys the unit everywhere', async () => {
    await c().execOk(WATCHER, ['rm', `${DIR}/${UNIT}.loaded`]);
    await until(`${UNIT} gone from the registry and ${WORKER}`, 60_000, async () => {
      if ((await unitFiles()).has(UNIT)) return undefined;
      if (await hasUnitFile(c(), WORKER, UNIT)) return undefined;
      return (await loadState(c(), WORKER, UNIT)) === 'not-found' ? true : undefined;
    });
    // The other dropped unit is untouched.
    expect(await isActive(c(), WORKER, 'second.service')).toBe('active');
  });
});
