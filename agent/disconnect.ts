// StopOnDisconnect on the agent: which scheduled units carry it (with their stop bound), whether the
// machine is cut off (the rule is in ./fence.ts), and stopping those units before the lease expires.
// Ordinary units are never stopped for losing etcd.

import { metrics } from '../metrics/metrics.js';
import type { Logger } from '../units/log.js';
import { parseUnitFile } from '../units/parse.js';
import { parseRequirements } from '../units/xfleet.js';
import { type ExecuteDeps, type LoadedUnit, stopUnits } from './execute.js';
import { shouldFence } from './fence.js';

export interface DisconnectGuardOptions {
  readonly machineID: string;
  readonly deps: ExecuteDeps;
  /** The agent's loaded units; fenced units are set back to `loaded` here. */
  readonly loaded: Map<string, LoadedUnit>;
  readonly log: Logger;
  /** agent_ttl in ms. */
  readonly ttlMs: number;
  /** Monotonic clock (ms) and the store's lease proof on it. */
  readonly now: () => number;
  readonly leaseProof: () => number;
  /** Called when the machine reaches etcd again (the agent reconciles). */
  readonly onResume: () => void;
}

export interface DisconnectGuard {
  /** The stop bound (ms) of a unit with these contents, null for an ordinary unit; remembers it. */
  track(unit: string, hash: string, text: string): number | null;
  /** True while StopOnDisconnect units are held stopped because the lease could not be renewed. */
  isFenced(): boolean;
  /** Stops the launched StopOnDisconnect units (the agent calls it while fenced). */
  fenceAll(): Promise<void>;
  /** Compares the lease proof with the deadline; fences or resumes. */
  check(): void;
}

export function createDisconnectGuard(opts: DisconnectGuardOptions): DisconnectGuard {
  const { machineID, deps, loaded, log, ttlMs } = opts;
  let fenced = false;
  /** Stop bound (ms) of each StopOnDisconnect unit by content hash; null for ordinary units. */
  const stopBounds = new Map<string, number | null>();
  /** StopOnDisconnect units scheduled here, with their stop bound. */
  const disconnectStops = new Map<string, number>();

  const stopBoundOf = (hash: string, text: string): number | null => {
    let bound = stopBounds.get(hash);
    if (bound === undefined) {
      try {
        bound = parseRequirements(parseUnitFile(text)).stopOnDisconnect?.stopTimeoutMs ?? null;
      } catch {
        bound = null;
      }
      stopBounds.set(hash, bound);
    }
    return bound;
  };

  /**
   * Stops the launched StopOnDisconnect units, outside the agent's serial queue (which may be stuck on
   * an etcd call). systemd enforces the unit's stop timeout; a stop still running at the bound is
   * ended with SIGKILL, because the engine places the unit elsewhere once the bound has passed.
   */
  async function fenceAll(): Promise<void> {
    const launched = [...loaded]
      .filter(([unit, u]) => u.state === 'launched' && disconnectStops.has(unit))
      .map(([unit]) => unit);
    await Promise.all(
      launched.map(async (unit) => {
        const bound = disconnectStops.get(unit) ?? 0;
        const killer = setTimeout(() => {
          log.error(
            { machine: machineID, unit },
            `stopping ${unit} overran its ${bound} ms bound; killing it`,
          );
          deps.driver.killUnit(unit).catch(() => undefined);
        }, bound);
        const failed = await stopUnits(deps, [unit]).finally(() => clearTimeout(killer));
        const err = failed.get(unit);
        if (err !== undefined) {
          log.error({ machine: machineID, unit, err }, `fencing ${unit} failed; retrying`);
          return;
        }
        const u = loaded.get(unit);
        if (u) loaded.set(unit, { ...u, state: 'loaded' });
        log.warn(
          { machine: machineID, unit },
          `fenced: stopped ${unit} on ${machineID} (StopOnDisconnect; lease not renewed)`,
        );
        metrics.fenceEvents.inc({ event: 'unit_stopped' });
      }),
    );
  }

  const check = (): void => {
    const sinceProof = opts.now() - opts.leaseProof();
    const must = shouldFence(opts.now(), opts.leaseProof(), ttlMs);
    if (must && !fenced) {
      fenced = true;
      metrics.fenceEvents.inc({ event: 'fenced' });
      if (disconnectStops.size > 0)
        log.error(
          { machine: machineID, sinceProofMs: Math.round(sinceProof), units: [...disconnectStops.keys()] },
          `machine ${machineID} could not renew its lease; stopping its StopOnDisconnect units before they can be rescheduled`,
        );
      else
        log.warn(
          { machine: machineID, sinceProofMs: Math.round(sinceProof) },
          `machine ${machineID} cannot reach etcd; its units keep running`,
        );
      void fenceAll();
    } else if (!must && fenced) {
      fenced = false;
      metrics.fenceEvents.inc({ event: 'resumed' });
      log.warn(
        { machine: machineID },
        `machine ${machineID} reaches etcd again; reconciling with its schedule`,
      );
      opts.onResume();
    }
  };

  return {
    track(unit, hash, text) {
      const bound = stopBoundOf(hash, text);
      if (bound === null) disconnectStops.delete(unit);
      else disconnectStops.set(unit, bound);
      return bound;
    },
    isFenced: () => fenced,
    fenceAll,
    check,
  };
}
