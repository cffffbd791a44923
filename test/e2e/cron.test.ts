// Issue 10 on real machines: a cluster cron unit (`[X-Fleet] Schedule=`, every 5 s) runs once per tick
// on one machine of the cluster. Each run appends its machine's hostname to /run/cron-out on that
// machine; over ~20 s the lines from all machines add up to one per tick (3-5), and `fleetctl list-runs`
// shows each tick once, on the machine whose file got the line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, fleetctl, fleetctlOk, machineNamed, PROJECT, until } from '../support/fleet-e2e.js';
import { type Cluster, createCluster } from '../support/nspawn.js';

const NAMES = ['cron1', 'cron2'] as const;
const UNIT = 'tick.service';
const OUT = '/run/cron-out';

let cluster: Cluster | undefined;
let unitDir = '';

function c(): Cluster {
  if (!cluster) throw new Error('cluster did not boot');
  return cluster;
}

interface Run {
  readonly tick: string;
  readonly machineID: string;
  readonly result: string;
}

async function listRuns(): Promise<Run[]> {
  const out = await fleetctlOk(c(), ['list-runs', '--no-legend', '--lines', '100', UNIT]);
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [tick = '', machineID = '', , , ...result] = l.split('\t').filter((f) => f !== '');
      return { tick, machineID, result: result.join(' ') };
    });
}

/** Lines of /run/cron-out per machine (a machine that never ran the unit has no file). */
async function outputs(): Promise<Map<string, string[]>> {
  const m = new Map<string, string[]>();
  for (const name of NAMES) {
    const r = await c().exec(name, ['cat', OUT]);
    m.set(name, r.code === 0 ? r.stdout.split('\n').filter((l) => l !== '') : []);
  }
  return m;
}

beforeAll(async () => {
  ensureBuilt();
  unitDir = mkdtempSync(join(tmpdir(), 'fleet-ts-cron-'));
  writeFileSync(
    join(unitDir, UNIT),
    [
      '[Unit]',
      'Description=cluster cron tick',
      '',
      '[Service]',
      'Type=oneshot',
      `ExecStart=/bin/sh -c "hostname >> ${OUT}"`,
      '',
      '[X-Fleet]',
      'Schedule=*/5 * * * * *',
      '',
    ].join('\n'),
  );
  cluster = await createCluster({
    machines: NAMES.map((name) => ({ name, fleetConf: { agent_ttl: '5s' } })),
    projectDir: PROJECT,
    startFleetd: true,
  });
  await until('both machines in list-machines', 60_000, async () => {
    const out = await fleetctlOk(c(), ['list-machines', '--no-legend']);
    return out.split('\n').filter((l) => l.trim()).length === NAMES.length ? true : undefined;
  });
});

afterAll(async () => {
  try {
    await cluster?.teardown();
  } finally {
    if (unitDir) rmSync(unitDir, { recursive: true, force: true });
  }
});

describe('cluster cron on real machines', () => {
  it('runs once per tick on one machine: lines match list-runs, no tick twice', async () => {
    const start = await fleetctl(c(), ['start', join(unitDir, UNIT)], { timeoutMs: 60_000 });
    expect(start.code, start.stdout + start.stderr).toBe(0);
    const armedAt = Date.now();
    // Wait for three runs (not a fixed 20 s: on a busy machine fleetctl alone can take seconds).
    await until('three successful runs', 180_000, async () =>
      (await listRuns()).filter((r) => r.result === 'succeeded').length >= 3 ? true : undefined,
    );
    // Pause the schedule: no tick after this is recorded. Let a run in flight finish.
    const stop = await fleetctl(c(), ['stop', UNIT], { timeoutMs: 60_000 });
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    const stoppedAt = Date.now();
    const runs = await until('every recorded run to finish', 30_000, async () => {
      const rs = await listRuns();
      if (rs.every((r) => r.result !== 'running' && r.result !== 'scheduled')) return rs;
      throw new Error(`list-runs: ${rs.map((r) => `${r.tick} ${r.result}`).join('; ')}`);
    });
    console.log(
      `cron: ${runs.length} runs in ${stoppedAt - armedAt} ms: ${runs.map((r) => `${r.tick} ${r.result}`).join('; ')}`,
    );

    const out = await outputs();
    const lines = NAMES.flatMap((n) => out.get(n) ?? []);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    // Each machine's file holds only its own hostname.
    for (const name of NAMES) for (const l of out.get(name) ?? []) expect(l).toBe(name);

    // list-runs: every tick once, each a success on the machine whose file got the line.
    const ticks = runs.map((r) => r.tick);
    expect(new Set(ticks).size).toBe(ticks.length);
    for (const t of ticks) expect(Number.isNaN(Date.parse(t))).toBe(false);
    const succeeded = runs.filter((r) => r.result === 'succeeded');
    expect(succeeded.length).toBe(lines.length);
    for (const name of NAMES) {
      const onMachine = succeeded.filter((r) => machineNamed(c(), r.machineID) === name).length;
      expect(onMachine).toBe(out.get(name)?.length ?? 0);
    }
    // Ticks are 5 s apart (seconds divisible by 5).
    for (const t of ticks) expect(new Date(t).getUTCSeconds() % 5).toBe(0);
  });

  it('runs nothing while stopped', async () => {
    const before = (await listRuns()).length;
    const lines = [...(await outputs()).values()].flat().length;
    await sleep(11_000);
    expect((await listRuns()).length).toBe(before);
    expect([...(await outputs()).values()].flat().length).toBe(lines);
  });
});
