// Blocking: after changing desired states, fleetctl waits until the cluster reports them (fleet's waitForState).
// All units of one command are polled together with ONE registry read per poll (fleet issued one
// request per unit per 250 ms). Attempts keep fleet's meaning: one attempt = a 2 s window, 0 = forever,
// -1 (--no-block) = do not wait. While waiting, a progress line goes to stderr now and then so a long
// wait never looks like a hang; stdout keeps fleet's exact lines.
import type { UnitWithTarget } from '../../registry/types.js';
import type { DesiredState, UnitStateReport } from '../../units/types.js';
import type { FleetClient } from './client.js';
import type { CliIO, Printer } from './io.js';
import { machineFullLegend, machineLookup } from './legend.js';

export const POLL_INTERVAL_MS = 250;
/** Polls in the first FAST_POLL_FOR_MS of a wait come this often: most waits end within a second or two. */
export const FAST_POLL_INTERVAL_MS = 100;
export const FAST_POLL_FOR_MS = 2000;

/** The pause before the next poll of a wait that began at `started` (Date.now()). */
export function pollDelay(started: number): number {
  return Date.now() - started < FAST_POLL_FOR_MS ? FAST_POLL_INTERVAL_MS : POLL_INTERVAL_MS;
}
export const ATTEMPT_WINDOW_MS = 2000;
/** First progress line after this long, then every PROGRESS_EVERY_MS. */
export const PROGRESS_AFTER_MS = 2000;
export const PROGRESS_EVERY_MS = 10_000;

/** fleet's getBlockAttempts: --no-block wins (-1), else N > 0, else 0 (forever). */
export function blockAttempts(opts: { block?: boolean; blockAttempts?: number }): number {
  if (opts.block === false) return -1;
  return opts.blockAttempts && opts.blockAttempts > 0 ? opts.blockAttempts : 0;
}

export interface WaitContext {
  readonly client: FleetClient;
  readonly io: CliIO;
  readonly print: Printer;
}

/** Deadline of a wait of `attempts` windows; Infinity for 0 (forever). */
const deadlineOf = (attempts: number): number =>
  attempts > 0 ? Date.now() + attempts * ATTEMPT_WINDOW_MS : Number.POSITIVE_INFINITY;

function summary(pending: ReadonlyMap<string, string>): string {
  const shown = [...pending].slice(0, 3).map(([n, s]) => `${n} (${s})`);
  const more = pending.size > 3 ? ` and ${pending.size - 3} more` : '';
  return shown.join(', ') + more;
}

async function readUnits(
  client: FleetClient,
  names: readonly string[],
): Promise<Map<string, UnitWithTarget>> {
  const out = new Map<string, UnitWithTarget>();
  if (names.length <= 2) {
    for (const n of names) {
      const u = await client.getUnit(n);
      if (u) out.set(n, u);
    }
    return out;
  }
  for (const u of await client.listUnits()) out.set(u.name, u);
  return out;
}

/**
 * A cluster cron unit (`[X-Fleet] Schedule=`): armed by its desired state, it runs once per tick and
 * is otherwise placed nowhere, so there is no current state or systemd activity to wait for.
 */
export function isCronUnit(u: UnitWithTarget): boolean {
  return u.options.some((o) => o.section === 'X-Fleet' && o.name === 'Schedule' && o.value.trim() !== '');
}

/**
 * Waits until every unit reports `state` (current state; desired state for global units, whose
 * current state is meaningless) and prints fleet's `Unit X <state>[ on <machine>]` line for each as it
 * gets there. Returns the errors (fleet's wording) of the units that did not make it.
 */
export async function waitForUnitStates(
  ctx: WaitContext,
  names: readonly string[],
  state: DesiredState,
  attempts: number,
): Promise<{ errors: string[]; reached: Map<string, UnitWithTarget> }> {
  const reached = new Map<string, UnitWithTarget>();
  const errors: string[] = [];
  if (attempts < 0 || names.length === 0) return { errors, reached };
  const pending = new Map<string, string>(names.map((n) => [n, '?']));
  const deadline = deadlineOf(attempts);
  const started = Date.now();
  let nextProgress = started + PROGRESS_AFTER_MS;
  let lookup: ReturnType<typeof machineLookup> | undefined;

  for (;;) {
    const units = await readUnits(ctx.client, [...pending.keys()]);
    for (const name of [...pending.keys()]) {
      const u = units.get(name);
      if (!u) {
        pending.delete(name);
        errors.push(`Unit ${name} not found`);
        continue;
      }
      // Global and cluster-cron units have no single target whose state could be awaited.
      const now = u.global || isCronUnit(u) ? u.desiredState : (u.currentState ?? 'inactive');
      if (now !== state) {
        // fleet-ts: an unplaced unit says why (the engine's reason, `unplaced/<unit>`).
        pending.set(name, now === 'inactive' && u.reason ? `${now}: ${u.reason}` : now);
        continue;
      }
      pending.delete(name);
      reached.set(name, u);
      let msg = `Unit ${name} ${u.global ? u.desiredState : now}`;
      // A cron unit's machine, if any, is only that of the run in progress: not where the unit "is".
      if (u.machineID && !isCronUnit(u)) {
        if (!lookup) lookup = machineLookup(await ctx.client.listMachines());
        msg += ` on ${machineFullLegend(lookup(u.machineID), false)}`;
      }
      ctx.print.out(msg);
    }
    if (pending.size === 0) return { errors, reached };
    if (Date.now() >= deadline) {
      for (const name of pending.keys())
        errors.push(`timed out waiting for unit ${name} to report state ${state}`);
      return { errors, reached };
    }
    if (Date.now() >= nextProgress) {
      const secs = Math.round((Date.now() - started) / 1000);
      ctx.print.err(`Waiting for ${pending.size} unit(s) to be ${state} (${secs}s): ${summary(pending)}`);
      nextProgress = Date.now() + PROGRESS_EVERY_MS;
    }
    await ctx.io.sleep(pollDelay(started));
  }
}

/**
 * After `launched`, `start` waits for systemd to report the unit active on its machine. Unlike fleet,
 * slow units are fine (no 2 s limit); a unit that systemd reports `failed` fails the command at once.
 */
export async function waitForSystemdActive(
  ctx: WaitContext,
  units: ReadonlyMap<string, UnitWithTarget>,
  attempts: number,
): Promise<string[]> {
  const errors: string[] = [];
  if (attempts < 0 || units.size === 0) return errors;
  const pending = new Map<string, string>(
    [...units].filter(([, u]) => !isCronUnit(u)).map(([n]) => [n, '?']),
  );
  if (pending.size === 0) return errors;
  const deadline = deadlineOf(attempts);
  const started = Date.now();
  let nextProgress = started + PROGRESS_AFTER_MS;
  for (;;) {
    const reports = await ctx.client.listUnitStates();
    const byKey = new Map<string, UnitStateReport>(reports.map((r) => [`${r.unit}\n${r.machineID}`, r]));
    for (const name of [...pending.keys()]) {
      const u = units.get(name) as UnitWithTarget;
      const r = byKey.get(`${name}\n${u.machineID ?? ''}`);
      if (!r) continue;
      if (r.systemd.active === 'active' && r.systemd.load === 'loaded') {
        pending.delete(name);
      } else if (r.systemd.active === 'failed') {
        pending.delete(name);
        errors.push(
          `Unit ${name} failed to start: systemd reports ${r.systemd.load}/${r.systemd.active}/${r.systemd.sub}`,
        );
      } else {
        pending.set(name, `${r.systemd.active}/${r.systemd.sub}`);
      }
    }
    if (pending.size === 0) return errors;
    if (Date.now() >= deadline) {
      for (const name of pending.keys())
        errors.push(`timed out waiting for unit ${name} to report active state`);
      return errors;
    }
    if (Date.now() >= nextProgress) {
      const secs = Math.round((Date.now() - started) / 1000);
      ctx.print.err(
        `Waiting for systemd to activate ${pending.size} unit(s) (${secs}s): ${summary(pending)}`,
      );
      nextProgress = Date.now() + PROGRESS_EVERY_MS;
    }
    await ctx.io.sleep(pollDelay(started));
  }
}

/** destroy: waits until no machine reports the units any more (the agents have unloaded them). */
export async function waitForUnitsGone(
  ctx: WaitContext,
  names: readonly string[],
  attempts: number,
): Promise<string[]> {
  if (attempts < 0 || names.length === 0) return [];
  const deadline = deadlineOf(attempts);
  const started = Date.now();
  let nextProgress = started + PROGRESS_AFTER_MS;
  const wanted = new Set(names);
  for (;;) {
    const still = new Map<string, string>();
    for (const r of await ctx.client.listUnitStates()) {
      if (wanted.has(r.unit)) still.set(r.unit, `on ${r.machineID.slice(0, 8)}...`);
    }
    if (still.size === 0) return [];
    if (Date.now() >= deadline) {
      return [...still.keys()].map((n) => `timed out waiting for unit ${n} to be unloaded from its machines`);
    }
    if (Date.now() >= nextProgress) {
      const secs = Math.round((Date.now() - started) / 1000);
      ctx.print.err(
        `Waiting for ${still.size} destroyed unit(s) to be unloaded (${secs}s): ${summary(still)}`,
      );
      nextProgress = Date.now() + PROGRESS_EVERY_MS;
    }
    await ctx.io.sleep(pollDelay(started));
  }
}
