// Crash leftovers: every cluster records what it started in a state file, so a later run can clean up
// after a crash (the owner process died without teardown).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { removeCgroupTree } from '../cgroups.js';
import { killIfSame, procStart } from './process.js';
import type { ClusterState } from './types.js';

const STATE_DIR = '/run/fleet-ts-harness';

interface StateFile {
  ownerPid: number;
  ownerStart: string | null;
  bridge: string;
  tmpDir: string;
  cgroupDirs: string[];
  processes: { pid: number; start: string | null }[];
}

function stateFilePath(bridge: string): string {
  return join(STATE_DIR, `${bridge}.json`);
}

/**
 * Cleans up a cluster whose owner process died without teardown (crash, SIGKILL). Only processes
 * recorded in its state file, still having the recorded start time, are killed.
 */
export function cleanupStaleCluster(bridge: string): boolean {
  const file = stateFilePath(bridge);
  if (!existsSync(file)) return false;
  let st: StateFile;
  try {
    st = JSON.parse(readFileSync(file, 'utf8')) as StateFile;
  } catch {
    return false;
  }
  if (st.ownerPid > 1 && procStart(st.ownerPid) === st.ownerStart) return false; // owner alive
  for (const p of st.processes) killIfSame(p.pid, p.start, 'SIGKILL');
  const deadline = Date.now() + 5000;
  while (st.processes.some((p) => procStart(p.pid) === p.start) && Date.now() < deadline) {
    execFileSync('sleep', ['0.1']);
  }
  try {
    execFileSync('ip', ['link', 'del', st.bridge], { stdio: 'pipe' });
  } catch {
    // already gone
  }
  for (const d of st.cgroupDirs) {
    removeCgroupTree(d);
    try {
      rmdirSync(dirname(d));
    } catch {
      // in use or gone
    }
  }
  rmSync(st.tmpDir, { recursive: true, force: true });
  rmSync(file, { force: true });
  return true;
}

/** Records what the cluster has started so far (nothing before it owns a bridge). */
export function writeStateFile(s: ClusterState): void {
  if (!s.bridge) return;
  const st: StateFile = {
    ownerPid: process.pid,
    ownerStart: procStart(process.pid),
    bridge: s.bridge,
    tmpDir: s.tmpDir,
    cgroupDirs: s.clusterCgroup,
    processes: [...s.machines.values()].flatMap((m) => [
      { pid: m.nspawnPid, start: m.nspawnStart },
      { pid: m.leaderPid, start: m.leaderStart },
    ]),
  };
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(stateFilePath(s.bridge), JSON.stringify(st));
}

export function removeStateFile(bridge: string): void {
  rmSync(stateFilePath(bridge), { force: true });
}
