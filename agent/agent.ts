// The agent runtime: announces the machine, follows its own schedule, keeps systemd in line with it,
// reports unit states. Decisions are the pure planner's (plan.ts); StopOnDisconnect is disconnect.ts,
// state reports publish.ts, optional behaviours (cluster cron) behaviours.ts. This file wires timers and I/O.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunReporter } from '../registry/runs.js';
import { errorMessage as message } from '../units/common.js';
import { createLogger, type Logger } from '../units/log.js';
import { validateUnitName } from '../units/names.js';
import type { ScheduleRecord } from '../units/types.js';
import { announceUntilDone, removeDanglingLinks } from './announce.js';
import { AGENT_BEHAVIOURS } from './behaviours.js';
import { createDisconnectGuard } from './disconnect.js';
import { type ExecuteDeps, executeTasks, type LoadedUnit, unloadUnits } from './execute.js';
import { type HealthCheckRunner, HealthChecks } from './health-check.js';
import { HostUnitGuard } from './host-guard.js';
import { type AgentTask, type CurrentUnit, type DesiredUnit, hasInstallSection, planAgent } from './plan.js';
import { createStatePublisher } from './publish.js';
import { RestartGenerations, type RestartMemory } from './restart.js';
import type { AgentStore } from './store.js';
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
  /** Keeps applied restart generations across fleetd restarts (agent/restart-file.ts); memory only without. */
  readonly restartMemory?: RestartMemory;
  /** Runs [X-Fleet] HealthCheck= commands (default: `/bin/sh -c` on this host). */
  readonly healthCheck?: HealthCheckRunner;
  /** systemd's unit directories where the host's own units live (host-guard.ts HOST_UNIT_DIRS). */
  readonly hostUnitDirs?: readonly string[];
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

export function startAgent(opts: AgentOptions): Agent {
  const { machineID, store, driver, files, ttlMs } = opts;
  const log = opts.log ?? createLogger('agent');
  const pollMs = opts.pollIntervalMs ?? 1000;
  const now = opts.now ?? (() => performance.now());
  const loaded = new Map<string, LoadedUnit>();
  const refused = new Set<string>();
  let schedule: ReadonlyMap<string, ScheduleRecord> = new Map();
  let stopped = false;
  let queue: Promise<void> = Promise.resolve();
  let reconcileQueued = false;
  let publishQueued = false;
  let debounce: NodeJS.Timeout | undefined;
  const timers: NodeJS.Timeout[] = [];
  const soonPolls = new Set<NodeJS.Timeout>();

  const deps: ExecuteDeps = { driver, files, unitText: (h) => store.getUnitText(h), log, machineID };
  const behaviours = AGENT_BEHAVIOURS.flatMap(
    (make) => make({ machineID, driver, log, ...(opts.runs ? { runs: opts.runs } : {}) }) ?? [],
  );
  const restarts = new RestartGenerations(opts.restartMemory);
  const hostUnits = new HostUnitGuard({
    systemdDir: files.systemdDir,
    unitsDir: files.unitsDir,
    ...(opts.hostUnitDirs ? { hostDirs: opts.hostUnitDirs } : {}),
    log,
    machineID,
  });
  const health = new HealthChecks({
    machineID,
    log,
    unitText: (h) => store.getUnitText(h),
    onChange: () => requestPoll(),
    ...(opts.healthCheck ? { run: opts.healthCheck } : {}),
  });
  const publisher = createStatePublisher({
    machineID,
    store,
    driver,
    loaded,
    log,
    refused: () => hostUnits.refusedStates(),
    extra: async (unit, u, s) => {
      const restart = restarts.generationOf(unit);
      return { ...(restart ? { restart } : {}), ...(await health.fieldFor(unit, u.hash, s.active)) };
    },
  });
  const guard = createDisconnectGuard({
    machineID,
    deps,
    loaded,
    log,
    ttlMs,
    now,
    leaseProof: () => store.leaseProof(),
    onResume: () => requestReconcile(),
  });
  const publishStates = async () => {
    const started = performance.now();
    const settling = await publisher.publish();
    const ms = Math.round(performance.now() - started);
    if (ms >= 20) log.debug({ machine: machineID, ms, settling }, `state publication took ${ms} ms`);
    health.retain(loaded.keys());
    return settling;
  };

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
    hostUnits.retain(schedule);
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
      if (!(await hostUnits.admit(name, rec.hash, text))) {
        skip.add(name); // never linked; an earlier version that runs is left alone
        continue;
      }
      const bound = guard.track(name, rec.hash, text);
      desired.push({
        name,
        hash: rec.hash,
        // Cut off from etcd, a StopOnDisconnect unit is held stopped (fenceAll stops it).
        desiredState: guard.isFenced() && bound !== null ? 'loaded' : rec.desiredState,
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
    let tasks: AgentTask[] = planned;
    for (const b of behaviours) if (b.adjustTasks) tasks = await b.adjustTasks(schedule, loaded, tasks);
    const launchedBefore = new Set([...loaded].filter(([, u]) => u.state === 'launched').map(([n]) => n));
    if (tasks.length > 0) {
      log.debug({ machine: machineID, tasks: tasks.length }, 'applying schedule');
      const failures = await executeTasks(deps, tasks, loaded);
      for (const b of behaviours) b.afterExecute?.(schedule, tasks, failures);
      if (tasks.some((t) => t.kind === 'start' && !failures.some((f) => f.task === t)))
        pollAfterStart(FIRST_POLL_AFTER_START_MS, Date.now() + POLL_AFTER_START_FOR_MS);
    }
    const touched = new Set(tasks.flatMap((t) => (t.kind === 'daemon-reload' ? [] : [t.unit])));
    const launchedNow = (unit: string) => loaded.get(unit)?.state === 'launched';
    // Files in place with the scheduled contents that this agent had not loaded: a restarted fleetd.
    const readopted = new Set(
      desired
        .filter((d) => current.get(d.name)?.state === 'inactive' && current.get(d.name)?.hash === d.hash)
        .map((d) => d.name),
    );
    if (await restarts.apply({ desired, launchedBefore, touched, launchedNow, readopted }, restartDeps))
      pollAfterStart(FIRST_POLL_AFTER_START_MS, Date.now() + POLL_AFTER_START_FOR_MS);
    if (guard.isFenced()) await guard.fenceAll(); // a fence that fired while we ran wins over our starts
    await publishStates();
  }

  /** One state publication (and the behaviours' polls), unless one is already queued. */
  const requestPoll = () => {
    if (publishQueued || stopped) return;
    publishQueued = true;
    void serial('state poll', async () => {
      publishQueued = false;
      await publishStates();
      for (const b of behaviours) await b.poll?.(schedule);
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

  const ready = (async () => {
    const machine = {
      id: machineID,
      publicIP: opts.publicIP,
      metadata: { ...opts.metadata },
      version: opts.version ?? '',
      disableEngine: opts.disableEngine ?? false,
    };
    await announceUntilDone(store, machine, log, () => stopped);
    store.onLeaseRenewed(() => {
      // Publish everything again under the new lease (units stopped by the fence, units moved away).
      publisher.republishAll();
      requestReconcile();
    });
    await serial('startup cleanup', () => removeDanglingLinks(files, driver, log, machineID));
    await store.watchSchedule(machineID, onScheduleChange);
    if (debounce) clearTimeout(debounce);
    debounce = undefined;
    await serial('initial reconcile', reconcileOnce);
    if (stopped) return;
    timers.push(
      setInterval(requestPoll, pollMs),
      setInterval(requestReconcile, opts.reconcileIntervalMs ?? 5000),
      setInterval(() => {
        if (!guard.isFenced() && !stopped) void serial('schedule resync', () => store.resyncSchedule());
      }, opts.resyncIntervalMs ?? 60_000),
      setInterval(() => {
        if (!stopped) guard.check();
      }, opts.fenceCheckIntervalMs ?? 200),
    );
  })();
  ready.catch(() => undefined); // observed by the caller; never an unhandled rejection

  return {
    ready,
    isFenced: () => guard.isFenced(),
    loadedUnits: () => loaded,
    reconcileNow: () => serial('reconcile', reconcileOnce),
    async stop({ purge = false, etcdBudgetMs = Number.POSITIVE_INFINITY } = {}) {
      if (stopped) return;
      stopped = true;
      for (const t of timers) clearInterval(t);
      for (const t of soonPolls) clearTimeout(t);
      health.stop();
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
