// The agent runtime: announces the machine, follows its own schedule, keeps systemd in line with it,
// reports unit states. Losing etcd never stops an ordinary unit; only StopOnDisconnect units are
// stopped before the machine's lease could expire (fence.ts). All decisions are made by the pure
// planner (plan.ts) and fence rule (fence.ts); this file only wires timers and I/O.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunReporter } from '../registry/runs.js';
import { createLogger, type Logger } from '../units/log.js';
import { metrics } from '../units/metrics.js';
import { validateUnitName } from '../units/names.js';
import { parseUnitFile } from '../units/parse.js';
import type { ScheduleRecord } from '../units/types.js';
import { parseRequirements } from '../units/xfleet.js';
import { type ExecuteDeps, executeTasks, type LoadedUnit, stopUnits, unloadUnits } from './execute.js';
import { shouldFence } from './fence.js';
import { type CurrentUnit, type DesiredUnit, hasInstallSection, planAgent } from './plan.js';
import { RestartGenerations } from './restart.js';
import { RunTracker } from './runs.js';
import type { AgentStateRecord, AgentStore } from './store.js';
import type { SystemdDriver } from './systemd/driver.js';
import { AGENT_UNIT_TYPES, type UnitFileStore } from './unit-files.js';

export interface AgentOptions {
  readonly machineID: string;
  readonly publicIP: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly store: AgentStore;
  readonly driver: SystemdDriver;
  readonly files: UnitFileStore;
  /** agent_ttl in ms: lease TTL and the base of the StopOnDisconnect deadline. */
  readonly ttlMs: number;
  readonly log?: Logger;
  readonly version?: string;
  readonly disableEngine?: boolean;
  /** systemd state poll (fleet: 1 s). */
  readonly pollIntervalMs?: number;
  /** Coalesces bursts of schedule events into one batch. */
  readonly debounceMs?: number;
  /** Safety-net reconcile from memory (fleet: 5 s). */
  readonly reconcileIntervalMs?: number;
  /** Full re-read of the schedule, in case a watch event was ever missed. */
  readonly resyncIntervalMs?: number;
  readonly fenceCheckIntervalMs?: number;
  /** Cluster cron: where run results go. Without it, run entries are started but not reported. */
  readonly runs?: RunReporter;
  /** Monotonic clock (ms) on which the store's leaseProof() is read; performance.now by default. */
  readonly now?: () => number;
}

export interface Agent {
  /** Resolves once the machine is announced and the first reconcile ran. */
  readonly ready: Promise<void>;
  /**
   * purge=true is fleet's SIGTERM: unload every unit (stop, remove) and leave the cluster (revoke the
   * lease) so the engine reschedules at once. purge=false (SIGHUP reload) leaves units running.
   */
  stop(opts?: { purge?: boolean; etcdBudgetMs?: number }): Promise<void>;
  /** Runs one reconcile and state publication now (tests, SIGHUP). */
  reconcileNow(): Promise<void>;
  /** True while StopOnDisconnect units are held stopped because the lease could not be renewed. */
  isFenced(): boolean;
  /** What the agent has loaded/launched in this run. */
  loadedUnits(): ReadonlyMap<string, LoadedUnit>;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const unitType = (name: string): string => name.slice(name.lastIndexOf('.') + 1);

/**
 * Extra state reads after issuing starts. Starts are `--no-block`: a unit is active a few ms later (or a
 * second later when systemd starts a hundred at once), and waiting for the next 1 s poll to report that
 * made `fleetctl start` look slow. The first read comes 100 ms after the start; while units are still
 * activating the next follows after twice the delay (at most 400 ms), for at most 10 s.
 */
const FIRST_POLL_AFTER_START_MS = 100;
const MAX_POLL_AFTER_START_MS = 400;
const POLL_AFTER_START_FOR_MS = 10_000;
/** States a unit passes through on its way to active/failed/inactive. */
const SETTLING = new Set(['activating', 'deactivating', 'reloading']);

export function startAgent(opts: AgentOptions): Agent {
  const { machineID, store, driver, files, ttlMs } = opts;
  const log = opts.log ?? createLogger('agent');
  const pollMs = opts.pollIntervalMs ?? 1000;
  const now = opts.now ?? (() => performance.now());
  const loaded = new Map<string, LoadedUnit>();
  const lastPublished = new Map<string, string>();
  const refused = new Set<string>();
  let schedule: ReadonlyMap<string, ScheduleRecord> = new Map();
  let fenced = false;
  let stopped = false;
  let queue: Promise<void> = Promise.resolve();
  let reconcileQueued = false;
  let publishQueued = false;
  let debounce: NodeJS.Timeout | undefined;
  const timers: NodeJS.Timeout[] = [];
  const soonPolls = new Set<NodeJS.Timeout>();

  const restarts = new RestartGenerations();
  const runTracker = opts.runs ? new RunTracker({ machineID, driver, reporter: opts.runs, log }) : undefined;

  const deps: ExecuteDeps = { driver, files, unitText: (h) => store.getUnitText(h), log, machineID };

  /** Everything that touches systemd or the registry runs one at a time, in order. */
  const serial = (what: string, fn: () => Promise<void>): Promise<void> => {
    const next = queue
      .then(fn)
      .catch((err) => log.warn({ machine: machineID, err: message(err) }, `${what} failed`));
    queue = next;
    return next;
  };

  const refuse = (unit: string, why: string) => {
    if (refused.has(unit)) return;
    refused.add(unit);
    log.error(
      { machine: machineID, unit },
      `refusing unit ${JSON.stringify(unit)} scheduled to ${machineID}: ${why}`,
    );
  };

  /** Unit names this agent will not touch: invalid names or types the agent does not manage. */
  const rejectReason = (unit: string): string | null =>
    validateUnitName(unit) ??
    (AGENT_UNIT_TYPES.includes(unitType(unit)) ? null : 'unit type not managed by the agent');

  /** Stop bound (ms) of each StopOnDisconnect unit by content hash; null for ordinary units. */
  const stopBounds = new Map<string, number | null>();
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
  /** StopOnDisconnect units scheduled here, with their stop bound. */
  const disconnectStops = new Map<string, number>();

  /**
   * Stops the launched StopOnDisconnect units, outside the serial queue (which may be stuck on an etcd
   * call). systemd enforces the unit's stop timeout; a stop still running at the bound is ended with
   * SIGKILL, because the engine places the unit elsewhere once the bound has passed.
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
          driver.killUnit(unit).catch(() => undefined);
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

  const restartDeps = {
    restartUnit: (unit: string) => driver.restartUnit(unit),
    onRestarted: (unit: string, generation: number) =>
      log.info(
        { machine: machineID, unit, generation },
        `restarted ${unit} on ${machineID} (fleetctl restart)`,
      ),
    onFailed: (unit: string, generation: number, err: unknown) =>
      log.error({ machine: machineID, unit, generation, err: message(err) }, `restarting ${unit} failed`),
  };

  async function reconcileOnce(): Promise<void> {
    if (stopped) return;
    const desired: DesiredUnit[] = [];
    const skip = new Set<string>();
    for (const [name, rec] of schedule) {
      const bad = rejectReason(name);
      if (bad) {
        refuse(name, bad);
        skip.add(name);
        continue;
      }
      const text = await store.getUnitText(rec.hash);
      if (text === null) {
        refuse(`${name}@${rec.hash}`, `contents ${rec.hash} missing from the registry`);
        skip.add(name); // leave whatever runs alone until the contents show up
        continue;
      }
      const bound = stopBoundOf(rec.hash, text);
      if (bound === null) disconnectStops.delete(name);
      else disconnectStops.set(name, bound);
      desired.push({
        name,
        hash: rec.hash,
        // Cut off from etcd, a StopOnDisconnect unit is held stopped (fenceAll stops it).
        desiredState: fenced && bound !== null ? 'loaded' : rec.desiredState,
        hasInstall: hasInstallSection(text),
        generation: rec.restart ?? 0,
      });
    }
    const onDisk = await files.list();
    const current = new Map<string, CurrentUnit>();
    for (const f of onDisk)
      current.set(f.name, { name: f.name, hash: f.hash, state: loaded.get(f.name)?.state ?? 'inactive' });
    for (const [name, u] of loaded)
      if (!current.has(name)) current.set(name, { name, hash: undefined, state: u.state });
    for (const name of skip) current.delete(name);

    const planned = planAgent(desired, [...current.values()]);
    const tasks = runTracker ? await runTracker.adjustTasks(schedule, loaded, planned) : planned;
    const launchedBefore = new Set([...loaded].filter(([, u]) => u.state === 'launched').map(([n]) => n));
    if (tasks.length > 0) {
      log.debug({ machine: machineID, tasks: tasks.length }, 'applying schedule');
      const failures = await executeTasks(deps, tasks, loaded);
      runTracker?.afterExecute(schedule, tasks, failures);
      if (tasks.some((t) => t.kind === 'start' && !failures.some((f) => f.task === t)))
        pollAfterStart(FIRST_POLL_AFTER_START_MS, Date.now() + POLL_AFTER_START_FOR_MS);
    }
    const touched = new Set(tasks.flatMap((t) => (t.kind === 'daemon-reload' ? [] : [t.unit])));
    const launchedNow = (unit: string) => loaded.get(unit)?.state === 'launched';
    if (await restarts.apply({ desired, launchedBefore, touched, launchedNow }, restartDeps))
      pollAfterStart(FIRST_POLL_AFTER_START_MS, Date.now() + POLL_AFTER_START_FOR_MS);
    if (fenced) await fenceAll(); // a fence that fired while we ran wins over our starts
    await publishStates();
  }

  /** Publishes changed states; returns how many units are still settling (activating, ...). */
  async function publishStates(): Promise<number> {
    let settling = 0;
    const names = [...loaded.keys()];
    const states = names.length > 0 ? await driver.unitStates(names) : new Map();
    const writes: Promise<void>[] = [];
    for (const name of names) {
      const u = loaded.get(name);
      const s = states.get(name);
      if (!u || !s) continue;
      if (SETTLING.has(s.active)) settling++;
      const rec: AgentStateRecord = {
        hash: u.hash,
        load: s.load,
        active: s.active,
        sub: s.sub,
        agentState: u.state,
        ...(restarts.generationOf(name) ? { restart: restarts.generationOf(name) } : {}),
      };
      const json = JSON.stringify(rec);
      if (lastPublished.get(name) === json) continue;
      writes.push(
        store.publishState(name, rec).then(
          () => {
            lastPublished.set(name, json);
          },
          (err) =>
            log.debug(
              { machine: machineID, unit: name, err: message(err) },
              'state publish failed; will retry',
            ),
        ),
      );
    }
    for (const name of [...lastPublished.keys()]) {
      if (loaded.has(name)) continue;
      writes.push(
        store.deleteState(name).then(
          () => {
            lastPublished.delete(name);
          },
          (err) =>
            log.debug(
              { machine: machineID, unit: name, err: message(err) },
              'state delete failed; will retry',
            ),
        ),
      );
    }
    await Promise.all(writes);
    return settling;
  }

  /** One state publication (and cron run check), unless one is already queued. */
  const requestPoll = () => {
    if (publishQueued || stopped) return;
    publishQueued = true;
    void serial('state poll', async () => {
      publishQueued = false;
      await publishStates();
      await runTracker?.poll(schedule);
    });
  };

  const pollAfterStart = (delayMs: number, until: number) => {
    if (stopped) return;
    const t = setTimeout(() => {
      soonPolls.delete(t);
      void serial('state poll after start', async () => {
        if (stopped) return;
        const settling = await publishStates();
        if (settling > 0 && Date.now() < until)
          pollAfterStart(Math.min(MAX_POLL_AFTER_START_MS, delayMs * 2), until);
      });
    }, delayMs);
    soonPolls.add(t);
  };

  const requestReconcile = () => {
    if (reconcileQueued || stopped) return;
    reconcileQueued = true;
    void serial('reconcile', async () => {
      reconcileQueued = false;
      await reconcileOnce();
    });
  };

  const onScheduleChange = (s: ReadonlyMap<string, ScheduleRecord>) => {
    schedule = new Map(s);
    if (debounce) return;
    debounce = setTimeout(() => {
      debounce = undefined;
      requestReconcile();
    }, opts.debounceMs ?? 20);
  };

  const checkFence = () => {
    if (stopped) return;
    const sinceProof = now() - store.leaseProof();
    const must = shouldFence(now(), store.leaseProof(), ttlMs);
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
      requestReconcile();
    }
  };

  async function announceUntilDone(): Promise<void> {
    const machine = {
      id: machineID,
      publicIP: opts.publicIP,
      metadata: { ...opts.metadata },
      version: opts.version ?? '',
      disableEngine: opts.disableEngine ?? false,
    };
    // fleet's registration backoff: 1 s, doubling, at most 60 s.
    for (let delay = 1000; ; delay = Math.min(60_000, delay * 2)) {
      try {
        await store.announce(machine);
        return;
      } catch (err) {
        if (stopped) throw new Error('agent stopped before it could announce');
        // Another live fleetd holds this machine ID: an operator must look (two hosts, one ID).
        const held = err instanceof Error && err.name === 'RegistrationHeldError';
        (held ? log.error : log.warn).call(
          log,
          { machine: machineID, err: message(err) },
          `register machine failed, retrying in ${delay / 1000} sec`,
        );
        await sleep(delay);
        if (stopped) throw new Error('agent stopped before it could announce');
      }
    }
  }

  /** Links left in the systemd directory whose file is gone (fleet#1627): remove them. */
  async function removeDanglingLinks(): Promise<void> {
    const onDisk = new Set((await files.list()).map((f) => f.name));
    for (const name of await files.listLinks()) {
      if (onDisk.has(name)) continue;
      await driver.stopUnit(name).catch(() => undefined);
      await files.remove(name);
      log.info({ machine: machineID, unit: name }, `removed stale link of ${name}`);
    }
  }

  const ready = (async () => {
    await announceUntilDone();
    store.onLeaseRenewed(() => {
      // Publish everything again under the new lease. The new lease carried the store's last
      // published states, which may be stale (units stopped by the fence, units moved away while
      // cut off): keep the names so those that are no longer loaded get deleted, not forgotten.
      for (const name of lastPublished.keys()) lastPublished.set(name, '');
      requestReconcile();
    });
    await serial('startup cleanup', removeDanglingLinks);
    await store.watchSchedule(machineID, onScheduleChange);
    if (debounce) clearTimeout(debounce);
    debounce = undefined;
    await serial('initial reconcile', reconcileOnce);
    if (stopped) return;
    timers.push(
      setInterval(requestPoll, pollMs),
      setInterval(requestReconcile, opts.reconcileIntervalMs ?? 5000),
      setInterval(() => {
        if (!fenced && !stopped) void serial('schedule resync', () => store.resyncSchedule());
      }, opts.resyncIntervalMs ?? 60_000),
      setInterval(checkFence, opts.fenceCheckIntervalMs ?? 200),
    );
  })();
  ready.catch(() => undefined); // observed by the caller; never an unhandled rejection

  return {
    ready,
    isFenced: () => fenced,
    loadedUnits: () => loaded,
    reconcileNow: () => serial('reconcile', reconcileOnce),
    async stop({ purge = false, etcdBudgetMs = Number.POSITIVE_INFINITY } = {}) {
      if (stopped) return;
      stopped = true;
      for (const t of timers) clearInterval(t);
      for (const t of soonPolls) clearTimeout(t);
      if (debounce) clearTimeout(debounce);
      // A reconcile may be waiting on an unreachable etcd: never wait for it longer than the budget.
      const budget = (p: Promise<unknown>): Promise<unknown> =>
        Number.isFinite(etcdBudgetMs) ? Promise.race([p, sleep(etcdBudgetMs)]) : p;
      await budget(queue);
      if (!purge) {
        await store.close();
        log.info({ machine: machineID }, 'agent stopped; units left running');
        return;
      }
      const names = new Set([...loaded.keys(), ...(await files.list().catch(() => [])).map((f) => f.name)]);
      const sorted = [...names].sort();
      const failed = await unloadUnits(deps, sorted);
      for (const unit of sorted) {
        const err = failed.get(unit);
        if (err !== undefined) {
          log.error({ machine: machineID, unit, err }, `unloading ${unit} at shutdown failed`);
          continue;
        }
        loaded.delete(unit);
        log.info({ machine: machineID, unit }, `unloaded ${unit} from ${machineID} (shutdown)`);
      }
      if (names.size > 0) await driver.daemonReload().catch(() => undefined);
      try {
        const left = await budget(store.leave().then(() => true));
        if (left !== true) throw new Error(`etcd did not answer within ${etcdBudgetMs} ms`);
      } catch (err) {
        log.warn(
          { machine: machineID, err: message(err) },
          'leaving the cluster failed; the lease will expire',
        );
        await store.close();
      }
    },
  };
}
