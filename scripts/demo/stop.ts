// `npm run demo -- stop`: removes everything a previous run recorded, whether its keeper is alive or
// crashed. Only recorded PIDs (with their start time) are signalled, only the recorded bridge deleted.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { alive, type Proc, readState, STATE_DIR, signal, waitDead } from './state.js';

/** Returns false when there was no demo to stop. */
export async function stopDemo(log: (line: string) => void): Promise<boolean> {
  const st = readState();
  if (!st) {
    rmSync(STATE_DIR, { recursive: true, force: true });
    return false;
  }
  if (alive(st.keeper)) {
    // The keeper runs the harness's orderly teardown (machines power off, etcd, bridge, cgroups).
    log(`stopping the demo cluster (keeper PID ${st.keeper.pid})...`);
    signal(st.keeper, 'SIGTERM');
    if (!(await waitDead([st.keeper], 90_000))) {
      log('the keeper did not finish its teardown in 90 s; killing what it recorded');
      signal(st.keeper, 'SIGKILL');
    }
  } else {
    log('cleaning up after a demo whose keeper is gone...');
  }
  // Whatever is still there (keeper crashed or was killed): recorded PIDs only.
  const leftovers: Proc[] = [];
  for (const m of st.machines ?? []) leftovers.push(m.leader, m.nspawn);
  if (st.etcd) leftovers.push(st.etcd);
  for (const p of leftovers) signal(p, 'SIGKILL');
  await waitDead(leftovers, 10_000);
  if (st.bridge) {
    // The harness's crash record (owner = the dead keeper) covers cgroups and its temp dir.
    const { cleanupStaleCluster } = await import('../../test/support/nspawn.js');
    cleanupStaleCluster(st.bridge);
    const links = spawnSync('ip', ['-o', 'link', 'show', 'dev', st.bridge], { encoding: 'utf8' });
    if (links.status === 0) spawnSync('ip', ['link', 'del', st.bridge], { stdio: 'ignore' });
  }
  if (st.etcd?.dataDir.startsWith('/tmp/fleet-ts-etcd-'))
    rmSync(st.etcd.dataDir, { recursive: true, force: true });
  const stillThere = leftovers.filter(alive).map((p) => p.pid);
  rmSync(STATE_DIR, { recursive: true, force: true });
  if (stillThere.length > 0) throw new Error(`processes still running after stop: ${stillThere.join(' ')}`);
  return true;
}
