// Ending a machine: orderly power-off, sudden loss, and waiting until its processes and cgroups are gone.
import { setTimeout as sleep } from 'node:timers/promises';
import { cgroupPids, removeCgroupTree } from '../cgroups.js';
import { deadline, killIfSame, procStart } from './process.js';
import type { MachineRecord } from './types.js';

/** Waits for nspawn to exit (SIGKILL after graceMs), then ends whatever is left in its cgroups. */
export async function waitGone(m: MachineRecord, graceMs: number): Promise<void> {
  const timedOut = await Promise.race([m.exited.then(() => false), deadline(graceMs).then(() => true)]);
  if (timedOut) {
    killIfSame(m.leaderPid, m.leaderStart, 'SIGKILL');
    killIfSame(m.nspawnPid, m.nspawnStart, 'SIGKILL');
    await Promise.race([m.exited, deadline(10_000)]);
  }
  // The container's systemd may outlive a SIGKILLed nspawn: end it too.
  killIfSame(m.leaderPid, m.leaderStart, 'SIGKILL');
  for (const d of m.cgroupDirs) {
    const deadline = Date.now() + 10_000;
    while (!removeCgroupTree(d) && Date.now() < deadline) {
      // Anything still in this machine's cgroup was started by the machine (PIDs 0/1 excluded).
      for (const p of cgroupPids(d)) killIfSame(p, procStart(p), 'SIGKILL');
      await sleep(100);
    }
  }
}

/** Orderly power-off (SIGTERM to systemd-nspawn); resolves when the machine is gone. */
export async function powerOff(m: MachineRecord): Promise<void> {
  killIfSame(m.nspawnPid, m.nspawnStart, 'SIGTERM');
  await waitGone(m, 30_000);
}

/** Sudden machine loss: SIGKILL the container's systemd from the host. */
export async function hardKill(m: MachineRecord): Promise<void> {
  killIfSame(m.leaderPid, m.leaderStart, 'SIGKILL');
  await waitGone(m, 15_000);
}
