// fleetd's engine part alone, as the body of a child process: campaigns for leadership, runs the engine
// while it leads, prints one JSON line per event on stdout (`started`, `elected`, `deposed`, and with
// reportCommits `committed`: the schedule puts/deletes of one plan) and stops on SIGTERM or SIGINT.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type EngineDeps, startEngine } from '../../engine/engine.js';
import { createLeaderElection } from '../../engine/leader.js';
import { createEtcdClient } from '../../registry/client.js';
import { createEngineStore } from '../../registry/engine-store.js';
import { DEFAULT_KEY_PREFIX } from '../../registry/types.js';
import { createLogger } from '../../units/log.js';

export interface EngineProcessOptions {
  readonly endpoint: string;
  readonly machineID: string;
  readonly ttlSeconds: number;
  readonly requestTimeoutMs: number;
  /** How often a follower tries the campaign again. */
  readonly retryIntervalMs: number;
  readonly reconcileIntervalMs: number;
  readonly debounceMs?: EngineDeps['debounceMs'];
  readonly maxTxnOps?: number;
  readonly reportCommits?: boolean;
}

export function runEngineProcess(o: EngineProcessOptions): void {
  const { machineID } = o;
  const client = createEtcdClient({
    endpoints: [o.endpoint],
    keyPrefix: DEFAULT_KEY_PREFIX,
    requestTimeoutMs: o.requestTimeoutMs,
  });
  const ns = client.namespace(DEFAULT_KEY_PREFIX);
  const log = createLogger('engine', { level: process.env.FLEET_LOG_LEVEL ?? 'warn' });
  const say = (event: string, extra: object = {}) =>
    process.stdout.write(`${JSON.stringify({ event, machineID, at: Date.now(), ...extra })}\n`);
  const leader = createLeaderElection({
    ns,
    machineID,
    ttlSeconds: o.ttlSeconds,
    log,
    retryIntervalMs: o.retryIntervalMs,
  });
  leader.on('elected', (g) => say('elected', { createRevision: g.createRevision }));
  // Was the event loop held (a long synchronous step) or was etcd slow to acknowledge keepalives?
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  leader.on('deposed', (reason) => {
    say('deposed', { reason, loopDelayMaxMs: Math.round(loopDelay.max / 1e6) });
    loopDelay.reset();
  });
  const engine = startEngine({
    store: createEngineStore(ns, log, o.maxTxnOps === undefined ? {} : { maxTxnOps: o.maxTxnOps }),
    leader,
    log,
    reconcileIntervalMs: o.reconcileIntervalMs,
    machineID,
    ...(o.debounceMs === undefined ? {} : { debounceMs: o.debounceMs }),
    ...(o.reportCommits
      ? {
          onCommitted: (changes) => {
            let puts = 0;
            for (const c of changes) if (c.kind === 'put') puts++;
            say('committed', { puts, deletes: changes.length - puts });
          },
        }
      : {}),
  });
  leader.start();
  say('started');

  const shutdown = async () => {
    await engine.stop();
    await leader.stop();
    client.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}
