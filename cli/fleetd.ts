#!/usr/bin/env node
// fleetd: the per-host daemon. It always runs the agent and, unless disable_engine is set, takes part
// in the engine leader election. Signals as in fleet: SIGTERM/SIGINT leave the cluster, SIGHUP reloads.
// Design notes (what each signal does): docs/architecture.md, "cli/fleetd.ts".
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import { type Agent, startAgent } from '../agent/agent.js';
import { firstNonLoopbackIPv4, MACHINE_ID_FILE, parseMachineID } from '../agent/host.js';
import { RegistrationFile } from '../agent/registration-file.js';
import { RestartFile } from '../agent/restart-file.js';
import { SystemctlDriver } from '../agent/systemd/systemctl.js';
import { UnitFileStore } from '../agent/unit-files.js';
import { startApiServer } from '../api/listen.js';
import { journalctlReader } from '../api/ui/journal.js';
import { type ContentGc, startContentGc } from '../engine/content-gc.js';
import { type Cron, startCron } from '../engine/cron/cron.js';
import { type Engine, startEngine } from '../engine/engine.js';
import { createLeaderElection, type LeaderElection } from '../engine/leader.js';
import { EngineOps } from '../engine/ops.js';
import { metrics } from '../metrics/metrics.js';
import { EtcdAgentStore } from '../registry/agent-store.js';
import { createEtcdClient } from '../registry/client.js';
import { createEngineStore } from '../registry/engine-store.js';
import { openEtcdRegistry } from '../registry/etcd-registry.js';
import { type JournalRelayServer, serveJournalRequests } from '../registry/journal-relay.js';
import { createRunReporter } from '../registry/runs.js';
import { errorMessage as message } from '../units/common.js';
import { createLogger, type Logger, type LoggerOptions } from '../units/log.js';
import { FLEET_TS_VERSION } from '../units/version.js';
import { within } from './fleetd/bounded.js';
import { etcdOptionsFromConfig, loadFleetdConfig, logLevelFromConfig } from './fleetd/config.js';
import { ConfigError, type FleetdConfig } from './fleetd/config-keys.js';
import { fleetdOps, observeLeadership, observePlan, startMetricsListener } from './fleetd/ops.js';
import { startFleetdUnitWatch } from './watch/fleetd.js';

/** One line on stderr, exit 1. Messages are complete sentences (fleet's wording where it had one). */
function fail(msg: string): never {
  process.stderr.write(`${msg}\n`);
  process.exit(1);
}

interface Components {
  /** purge: fleet's SIGTERM behaviour; otherwise units keep running (SIGHUP). */
  stop(purge: boolean): Promise<void>;
  /** The leader election, undefined with disable_engine (metrics, /health). */
  readonly leader?: LeaderElection;
}

/** $FLEET_LOG_LEVEL wins over the config's verbosity; with neither, createLogger's default (warn). */
function logOptions(config: FleetdConfig): LoggerOptions {
  const level = process.env.FLEET_LOG_LEVEL || logLevelFromConfig(config);
  return level ? { level } : {};
}

/** The lease this host registers with, remembered across SIGHUP restarts and (on disk) across crashes. */
interface Registration {
  leaseID: string | undefined;
  readonly file: RegistrationFile;
}

/** Budgets (ms) of the shutdown steps that need etcd; together well under 10 s. */
const ENGINE_STOP_BUDGET_MS = 3000;
const AGENT_ETCD_BUDGET_MS = 2000;

function startComponents(
  config: FleetdConfig,
  machineID: string,
  version: string,
  registration: Registration,
): Components {
  const logOpts = logOptions(config);
  const agentLog = createLogger('agent', logOpts);
  const engineLog = createLogger('engine', logOpts);
  const client = createEtcdClient(etcdOptionsFromConfig(config));
  const ns = client.namespace(config.etcdKeyPrefix);

  const publicIP = config.publicIP || firstNonLoopbackIPv4(networkInterfaces());
  const store = new EtcdAgentStore({
    etcd: ns,
    machineID,
    ttlMs: config.agentTtlMs,
    log: agentLog,
    ...(registration.leaseID ? { resumeLeaseID: registration.leaseID } : {}),
    onLease: (id) => {
      registration.leaseID = id || undefined;
      registration.file.save(id);
    },
  });
  const agent: Agent = startAgent({
    machineID,
    publicIP,
    metadata: config.metadata,
    store,
    driver: new SystemctlDriver({ user: config.systemdUser, log: agentLog }),
    restartMemory: new RestartFile(
      join(dirname(config.unitsDirectory), 'restarts.json'),
      RegistrationFile.bootID(),
    ),
    files: new UnitFileStore({ unitsDir: config.unitsDirectory, log: agentLog }),
    ttlMs: config.agentTtlMs,
    log: agentLog,
    version,
    disableEngine: config.disableEngine,
    runs: createRunReporter(ns),
  });
  agent.ready.catch((err) =>
    agentLog.error({ machine: machineID, err: message(err) }, 'agent failed to start'),
  );
  // The web console on other machines asks this one for its journal through etcd, once this host
  // holds the machine's registration (registry/journal-relay.ts).
  let stopped = false;
  let journalRelay: JournalRelayServer | undefined;
  agent.ready
    .then(() =>
      stopped ? undefined : serveJournalRequests(ns, machineID, journalctlReader(machineID).read, agentLog),
    )
    .then((r) => {
      journalRelay = r;
      if (stopped) void r?.stop();
    })
    .catch((err: unknown) => agentLog.warn({ err: message(err) }, 'not answering journal requests'));

  let leader: LeaderElection | undefined;
  let engine: Engine | undefined;
  let cron: Cron | undefined;
  let contentGc: ContentGc | undefined;
  if (!config.disableEngine) {
    // fleet: engine lease TTL = 5 × engine_reconcile_interval.
    leader = createLeaderElection({
      ns,
      machineID,
      ttlSeconds: Math.max(2, Math.ceil((5 * config.engineReconcileIntervalMs) / 1000)),
      log: engineLog,
    });
    engine = startEngine({
      store: createEngineStore(ns, engineLog, { maxTxnOps: config.etcdMaxTxnOps }),
      leader,
      log: engineLog,
      reconcileIntervalMs: config.engineReconcileIntervalMs,
      agentTtlMs: config.agentTtlMs,
      machineID,
      ops: new EngineOps({ ns, log: engineLog, onUnplaced: (n) => metrics.unplaceable.set(n) }),
      onPlanned: observePlan,
    });
    observeLeadership(leader);
    // Cluster cron: fires scheduled units ([X-Fleet] Schedule=) while this machine leads.
    cron = startCron({ ns, leader, log: engineLog });
    // Unit contents no unit uses any more are deleted by the leader after a grace period.
    contentGc = startContentGc({ ns, leader, log: engineLog });
    // Campaign only once this host holds its machine registration: a fleetd refused because another
    // live host has its machine ID serves nothing for that ID (issue 13 item 5).
    const l = leader;
    agent.ready.then(
      () => l.start(),
      () => undefined,
    );
  }
  const unitWatch = startFleetdUnitWatch(config, ns, createLogger('unit-watch', logOpts));
  agentLog.info({ machine: machineID, publicIP, engine: !config.disableEngine }, 'fleetd started');

  return {
    ...(leader ? { leader } : {}),
    async stop(purge) {
      stopped = true;
      await within(
        agentLog,
        'stopping the journal relay',
        AGENT_ETCD_BUDGET_MS,
        journalRelay?.stop() ?? Promise.resolve(),
      );
      // Every step that needs etcd has a budget: with etcd unreachable, SIGTERM still ends in seconds.
      await Promise.all([
        within(engineLog, 'stopping cluster cron', ENGINE_STOP_BUDGET_MS, cron?.stop() ?? Promise.resolve()),
        within(
          engineLog,
          'stopping the content collector',
          ENGINE_STOP_BUDGET_MS,
          contentGc?.stop() ?? Promise.resolve(),
        ),
        within(
          engineLog,
          'stopping the unit watch',
          ENGINE_STOP_BUDGET_MS,
          unitWatch?.stop() ?? Promise.resolve(),
        ),
        within(
          engineLog,
          'stopping the engine and resigning leadership',
          ENGINE_STOP_BUDGET_MS,
          (async () => {
            await engine?.stop();
            await leader?.stop();
          })(),
        ),
      ]);
      await agent
        .stop({ purge, etcdBudgetMs: AGENT_ETCD_BUDGET_MS })
        .catch((err) => agentLog.warn({ err: message(err) }, 'agent stop failed'));
      client.close();
    },
  };
}

function loadConfig(log?: Logger): FleetdConfig {
  const resolved = loadFleetdConfig();
  if (resolved.kind === 'version') {
    process.stdout.write(`fleetd version ${FLEET_TS_VERSION}\n`);
    process.exit(0);
  }
  if (resolved.kind === 'help') {
    process.stdout.write(`${resolved.usage}\n`);
    process.exit(0);
  }
  const warn = log ?? createLogger('fleetd');
  for (const w of resolved.warnings) warn.warn(w);
  return resolved.config;
}

async function main(): Promise<void> {
  let config: FleetdConfig;
  try {
    config = loadConfig();
  } catch (err) {
    fail(err instanceof ConfigError ? err.message : `fleetd: reading configuration failed: ${message(err)}`);
  }
  let machineID: string;
  try {
    machineID = parseMachineID(readFileSync(MACHINE_ID_FILE, 'utf8'));
  } catch (err) {
    fail(
      message(err).startsWith('unable')
        ? message(err)
        : `unable to determine local machine ID: ${message(err)}`,
    );
  }
  const version = FLEET_TS_VERSION;
  const log = createLogger('fleetd', logOptions(config));

  const registration: Registration = {
    leaseID: undefined,
    file: new RegistrationFile(
      join(dirname(config.unitsDirectory), 'registration.json'),
      machineID,
      RegistrationFile.bootID(),
    ),
  };
  registration.leaseID = registration.file.load();
  let components = startComponents(config, machineID, version, registration);
  // The HTTP API (socket-activated fds, else api_socket; api_listen only with auth). Its sockets stay
  // open across SIGHUP: only the registry behind them is swapped.
  let apiRegistry = openEtcdRegistry(etcdOptionsFromConfig(config));
  const ops = fleetdOps({
    machineID,
    version,
    registry: () => apiRegistry,
    leader: () => components.leader,
  });
  const api = await startApiServer(config, apiRegistry, createLogger('api', logOptions(config)), {
    ops,
    version,
    journal: journalctlReader(machineID),
  }).catch((err: unknown) => fail(`fleetd: cannot serve the API: ${message(err)}`));
  // metrics_listen is read at start only (a SIGHUP keeps the listener as it is).
  const metricsServer = config.metricsListen
    ? await startMetricsListener(config.metricsListen, ops, log).catch((err: unknown) =>
        fail(`fleetd: cannot listen on metrics_listen ${config.metricsListen}: ${message(err)}`),
      )
    : undefined;
  let busy: Promise<void> = Promise.resolve();
  let shuttingDown = false;

  const shutdown = (signal: string) => {
    if (shuttingDown) {
      process.stderr.write(`fleetd: ${signal} again during shutdown; exiting without cleanup\n`);
      process.exit(1);
    }
    shuttingDown = true;
    log.warn({ signal }, 'shutting down: unloading units and leaving the cluster');
    busy = busy.then(async () => {
      await within(
        log,
        'closing the API',
        AGENT_ETCD_BUDGET_MS,
        (async () => {
          await api.close();
          metricsServer?.close();
          await apiRegistry.close();
        })(),
      );
      await components.stop(true);
      process.exit(0);
    });
  };
  const reload = () => {
    if (shuttingDown) return;
    busy = busy.then(async () => {
      let next: FleetdConfig;
      try {
        next = loadConfig(log);
      } catch (err) {
        log.error({ err: message(err) }, 'SIGHUP: configuration invalid; keeping the running one');
        return;
      }
      log.warn('SIGHUP: reloading configuration; units keep running');
      await components.stop(false);
      config = next;
      components = startComponents(config, machineID, version, registration);
      const previous = apiRegistry;
      apiRegistry = openEtcdRegistry(etcdOptionsFromConfig(config));
      api.setRegistry(apiRegistry);
      await previous.close();
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', reload);
}

main().catch((err) => fail(`fleetd: ${message(err)}`));
