// `fleetctl restart` with restart generations (registry/restart.ts): after bumping a unit's generation,
// wait until every machine that runs it reports that generation applied and systemd reports the unit
// active again. One registry read per poll; fleet's attempts semantics (wait.ts).
import type { UnitStateReport } from '../../units/types.js';
import { machineFullLegend, machineLookup } from './legend.js';
import {
  ATTEMPT_WINDOW_MS,
  PROGRESS_AFTER_MS,
  PROGRESS_EVERY_MS,
  pollDelay,
  type WaitContext,
} from './wait.js';

export type RestartProgress = 'restarted' | 'failed' | 'pending';

/** Pure: where one machine's report of the unit stands after generation `generation` was requested. */
export function restartProgress(r: UnitStateReport, generation: number): RestartProgress {
  if ((r.restart ?? 0) < generation) return 'pending';
  if (r.systemd.active === 'failed') return 'failed';
  return r.systemd.active === 'active' ? 'restarted' : 'pending';
}

/**
 * The machines to wait for: `machineID` for a non-global unit, else every machine whose agent reports
 * the unit launched. A machine that stops reporting the unit meanwhile (it left, the unit moved) is not
 * waited for any more.
 */
export async function waitForRestart(
  ctx: WaitContext,
  unit: string,
  generation: number,
  machineID: string | undefined,
  attempts: number,
  line: (legend: string) => string,
): Promise<string[]> {
  if (attempts < 0) return [];
  const deadline = attempts > 0 ? Date.now() + attempts * ATTEMPT_WINDOW_MS : Number.POSITIVE_INFINITY;
  const started = Date.now();
  let nextProgress = started + PROGRESS_AFTER_MS;
  let waiting: Set<string> | undefined;
  const errors: string[] = [];
  const lookup = machineLookup(await ctx.client.listMachines());
  for (;;) {
    const reports = (await ctx.client.listUnitStates()).filter((r) => r.unit === unit);
    waiting ??= new Set(
      machineID !== undefined
        ? [machineID]
        : reports.filter((r) => r.agentState === 'launched').map((r) => r.machineID),
    );
    const byMachine = new Map(reports.map((r) => [r.machineID, r]));
    const pending = new Map<string, string>();
    for (const m of [...waiting]) {
      const r = byMachine.get(m);
      const p = r ? restartProgress(r, generation) : 'restarted';
      if (!r) {
        waiting.delete(m);
        continue;
      }
      if (p === 'pending') {
        pending.set(m, `${r.systemd.active}/${r.systemd.sub}, generation ${r.restart ?? 0} of ${generation}`);
        continue;
      }
      waiting.delete(m);
      if (p === 'failed') {
        errors.push(
          `Unit ${unit} failed to restart on ${m}: systemd reports ${r.systemd.load}/${r.systemd.active}/${r.systemd.sub}`,
        );
      } else ctx.print.out(line(machineFullLegend(lookup(m), false)));
    }
    if (waiting.size === 0) return errors;
    if (Date.now() >= deadline) {
      for (const m of waiting) errors.push(`timed out waiting for unit ${unit} to restart on ${m}`);
      return errors;
    }
    if (Date.now() >= nextProgress) {
      const secs = Math.round((Date.now() - started) / 1000);
      const shown = [...pending].map(([m, s]) => `${m.slice(0, 8)}... (${s})`).join(', ');
      ctx.print.err(`Waiting for ${unit} to restart on ${waiting.size} machine(s) (${secs}s): ${shown}`);
      nextProgress = Date.now() + PROGRESS_EVERY_MS;
    }
    await ctx.io.sleep(pollDelay(started));
  }
}
