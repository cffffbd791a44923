// Issue 18 item 5, run inside databases.test.ts on its running 3-node Galera cluster (one cluster boot
// for all database scenarios): `fleetctl rolling-update` of examples/galera/galera@.service with a
// changed server setting (max_connections) and the example's health check (galera-health: Primary,
// wsrep_ready, Synced). wsrep_cluster_size is sampled every second on every node; the update must never
// let it drop below 2 and must end with every node on the new contents. Then a version whose health
// check never passes: the update stops after the first instance and rolls it back. Figures are printed,
// never asserted (no timed assertions).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import type { Cluster } from '../support/nspawn.js';
import { fleetctl, fleetctlOk, listUnitFiles, PROJECT } from './fleet-scenario.js';
import { galeraSocket, seconds, sql, status, waitSynced } from './mariadb.js';

const GALERA = ['galera@1.service', 'galera@2.service', 'galera@3.service'];
const HEALTH = '/opt/fleet-ts/examples/galera/galera-health %i';
const instanceOf = (unit: string) => Number(unit.slice('galera@'.length, -'.service'.length));

/** The example's template with `--max-connections=N` added and the example's health check declared. */
export function galeraTemplate(maxConnections: number, healthCheck = HEALTH): string {
  const lines = readFileSync(join(PROJECT, 'examples/galera/galera@.service'), 'utf8')
    .split('\n')
    .filter((l) => !/^HealthCheck(IntervalSec|TimeoutSec)?=/.test(l))
    .map((l) =>
      l.startsWith('ExecStart=/usr/sbin/mariadbd ') ? `${l} --max-connections=${maxConnections}` : l,
    );
  const xfleet = lines.indexOf('[X-Fleet]');
  if (xfleet < 0) throw new Error('examples/galera/galera@.service has no [X-Fleet] section');
  lines.splice(xfleet + 1, 0, `HealthCheck=${healthCheck}`, 'HealthCheckIntervalSec=2s');
  return lines.join('\n');
}

interface SizeSample {
  readonly at: number;
  /** Largest wsrep_cluster_size reported by a node in the Primary component (0: none answered so). */
  readonly size: number;
}

/** Every second, asks every node for its view; the cluster size of a tick is the Primary nodes' view. */
function sampleClusterSize(cluster: Cluster, placed: ReadonlyMap<string, string>) {
  let stopped = false;
  const samples: SizeSample[] = [];
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      const sizes = await Promise.all(
        GALERA.map(async (u) => {
          try {
            const s = await status(cluster, placed.get(u) ?? '', galeraSocket(instanceOf(u)), [
              'wsrep_cluster_size',
              'wsrep_cluster_status',
            ]);
            return s.wsrep_cluster_status === 'Primary' ? Number(s.wsrep_cluster_size) : 0;
          } catch {
            return 0; // stopped, starting or joining: not part of the Primary component right now
          }
        }),
      );
      samples.push({ at, size: Math.max(...sizes) });
      await sleep(Math.max(0, 1000 - (Date.now() - at)));
    }
  })();
  return {
    async stop(): Promise<SizeSample[]> {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

async function hashes(cluster: Cluster): Promise<Map<string, string>> {
  const out = await fleetctlOk(cluster, ['list-unit-files', '--full', '--no-legend', '--fields=unit,hash']);
  const m = new Map<string, string>();
  for (const l of out.split('\n')) {
    const [u = '', h = ''] = l.split('\t').filter((f) => f !== '');
    if (GALERA.includes(u)) m.set(u, h);
  }
  return m;
}

const histogram = (samples: readonly SizeSample[]) =>
  [3, 2, 1, 0].map((n) => `${samples.filter((s) => s.size === n).length}×${n}`).join(' ');

/**
 * Registers the rolling-update scenarios; `ctx` gives the cluster and where each galera@N runs (the
 * caller's map, kept current by its machine-loss scenario).
 */
export function galeraRollingUpdateScenarios(
  ctx: () => { cluster: Cluster; placed: ReadonlyMap<string, string> },
): void {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-ts-e2e-galera-roll-'));
  const file = join(dir, 'galera@.service');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rolling update of the Galera template: never below 2 nodes, every node on the new contents', async () => {
    const { cluster, placed } = ctx();
    writeFileSync(file, galeraTemplate(321));
    const sampler = sampleClusterSize(cluster, placed);
    await sleep(3000); // a few samples of the healthy cluster first
    const t0 = Date.now();
    const r = await fleetctl(cluster, ['rolling-update', file], { timeoutMs: 1_200_000 });
    const tookMs = Date.now() - t0;
    await sleep(2000);
    const samples = await sampler.stop();
    const min = Math.min(...samples.map((s) => s.size));
    console.log(
      `galera rolling update (fleetctl rolling-update ${file}; max-parallel 1, min-healthy-time 10s, ` +
        `health check galera-health): exit ${r.code} after ${seconds(tookMs)} s; ` +
        `wsrep_cluster_size sampled every second on every node: min ${min} over ${samples.length} samples (${histogram(samples)})\n${r.stdout}${r.stderr}`,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(min).toBeGreaterThanOrEqual(2);
    const v2 = new Set((await hashes(cluster)).values());
    expect(v2.size).toBe(1);
    for (const u of GALERA) {
      const m = placed.get(u) ?? '';
      await waitSynced(cluster, m, instanceOf(u), 3, 120_000);
      expect(await sql(cluster, m, galeraSocket(instanceOf(u)), 'SELECT @@max_connections')).toBe('321');
    }
    // Every node is reported healthy by its agent.
    const health = await fleetctlOk(cluster, ['list-units', '--no-legend', '--fields=unit,health']);
    for (const u of GALERA) expect(health).toMatch(new RegExp(`${u}\\s+healthy`));
  });

  it('a Galera version whose health check fails stops after the first instance and is rolled back', async () => {
    const { cluster, placed } = ctx();
    const before = await hashes(cluster);
    writeFileSync(file, galeraTemplate(400, `${HEALTH} && test -e /run/galera/never-ready`));
    const sampler = sampleClusterSize(cluster, placed);
    const t0 = Date.now();
    const r = await fleetctl(cluster, ['rolling-update', '--healthy-deadline=60s', file], {
      timeoutMs: 900_000,
    });
    const tookMs = Date.now() - t0;
    const first = GALERA.find((u) => r.stdout.includes(`${u}: replacing`)) ?? '';
    await waitSynced(cluster, placed.get(first) ?? '', instanceOf(first), 3, 300_000).catch(() => {});
    const samples = await sampler.stop();
    const min = Math.min(...samples.map((s) => s.size));
    console.log(
      `galera failing rolling update: exit ${r.code} after ${seconds(tookMs)} s; min wsrep_cluster_size ${min} over ${samples.length} samples (${histogram(samples)})\n${r.stdout}${r.stderr}`,
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^Error: rolling update of galera@\.service stopped: galera@\d\.service was not healthy for 10s within 60s of its replacement \(active, health check failing: exit 1.*\); 0 updated, 1 rolled back, 2 not replaced/,
    );
    expect(GALERA.filter((u) => r.stdout.includes(`${u}: replacing`))).toEqual([first]);
    expect(r.stdout).toMatch(new RegExp(`${first}: rolled back to [0-9a-f]{7}, active again`));
    expect(await hashes(cluster)).toEqual(before);
    expect(min).toBeGreaterThanOrEqual(2);
    // The rolled-back node runs its previous contents again and is back in the cluster.
    const m = placed.get(first) ?? '';
    await waitSynced(cluster, m, instanceOf(first), 3, 120_000);
    expect(await sql(cluster, m, galeraSocket(instanceOf(first)), 'SELECT @@max_connections')).toBe('321');
    expect((await listUnitFiles(cluster)).filter((u) => GALERA.includes(u.unit)).map((u) => u.state)).toEqual(
      ['launched', 'launched', 'launched'],
    );
  });
}
