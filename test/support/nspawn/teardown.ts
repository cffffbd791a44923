// Undoing a cluster: teardown (async, reports what it could not remove), the synchronous last resort
// run from a process exit handler, and the undo of a half-created cluster.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { releaseHierarchies, removeCgroupTree } from '../cgroups.js';
import { waitGone } from './machine-stop.js';
import { deadline, killIfSame, oneLine, run } from './process.js';
import { removeStateFile } from './state-file.js';
import type { ClusterState } from './types.js';

/**
 * A new cluster's state with its temp dir. Everything recorded in it from here on is undone by
 * cleanupSync/teardownCluster, even if a later step throws; cleanupSync also runs on process exit.
 */
export function createClusterState(): ClusterState {
  const state: ClusterState = {
    tmpDir: mkdtempSync(join(tmpdir(), 'fleet-ts-cluster-')),
    machines: new Map(),
    bridge: '',
    hierarchies: undefined,
    clusterCgroup: [],
    etcd: undefined,
    tornDown: false,
    onExit: () => cleanupSync(state),
  };
  process.once('exit', state.onExit);
  return state;
}

/** Last resort when the test process exits without teardown (uncaught error, process.exit). */
export function cleanupSync(s: ClusterState): void {
  if (s.tornDown) return;
  s.tornDown = true;
  for (const m of s.machines.values()) {
    killIfSame(m.leaderPid, m.leaderStart, 'SIGKILL');
    killIfSame(m.nspawnPid, m.nspawnStart, 'SIGKILL');
  }
  if (s.bridge) {
    try {
      execFileSync('ip', ['link', 'del', s.bridge], { stdio: 'pipe' });
    } catch {
      // gone
    }
  }
  const deadline = Date.now() + 3000;
  for (const d of s.clusterCgroup) {
    while (!removeCgroupTree(d) && Date.now() < deadline) execFileSync('sleep', ['0.1']);
    try {
      rmdirSync(dirname(d)); // the shared fleet-ts/ parent, unless another cluster still uses it
    } catch {
      // in use or gone
    }
  }
  if (s.hierarchies) releaseHierarchies(s.hierarchies);
  rmSync(s.tmpDir, { recursive: true, force: true });
  if (s.bridge) removeStateFile(s.bridge);
}

/** Removes everything the cluster created. Safe to call twice; throws after trying every step. */
export async function teardownCluster(s: ClusterState): Promise<void> {
  if (s.tornDown) return;
  const errors: string[] = [];
  await Promise.all(
    [...s.machines.values()].map(async (m) => {
      try {
        killIfSame(m.nspawnPid, m.nspawnStart, 'SIGTERM');
        await waitGone(m, 15_000);
      } catch (err) {
        errors.push(`machine ${m.name}: ${(err as Error).message}`);
      }
    }),
  );
  try {
    await s.etcd?.stop();
  } catch (err) {
    errors.push(`etcd: ${(err as Error).message}`);
  }
  const r = await run('ip', ['link', 'del', s.bridge]);
  if (r.code !== 0 && !/Cannot find device/.test(r.stderr)) errors.push(`bridge: ${oneLine(r.stderr)}`);
  for (const d of s.clusterCgroup) {
    if (!removeCgroupTree(d)) errors.push(`cgroup ${d} still busy`);
    try {
      rmdirSync(dirname(d)); // the shared fleet-ts/ parent, unless another cluster still uses it
    } catch {
      // in use or gone
    }
  }
  cleanupSync(s); // idempotent remainder: hierarchies, temp dir, state file
  process.removeListener('exit', s.onExit);
  if (errors.length > 0) throw new Error(`cluster teardown: ${errors.join('; ')}`);
}

/** Undoes a cluster that failed while being created (the caller then rethrows the original error). */
export async function abortCluster(s: ClusterState): Promise<void> {
  for (const m of s.machines.values()) {
    killIfSame(m.nspawnPid, m.nspawnStart, 'SIGTERM');
  }
  await Promise.all(
    [...s.machines.values()].map((m) => Promise.race([m.exited, deadline(15_000)]).then(() => undefined)),
  );
  await s.etcd?.stop().catch(() => {});
  cleanupSync(s);
  process.removeListener('exit', s.onExit);
}
