// One engine in its own process (as in fleetd, minus the agent), so the benchmark can read its CPU
// time from /proc and SIGKILL it. Prints one JSON line per event on stdout: `elected`, `deposed`, and
// `committed` (schedule puts/deletes written by one plan) with the wall-clock time it committed.
// Usage: node --import tsx bench/engine-child.ts <endpoint> <machineID> <leaseTtlSeconds> [maxTxnOps]
import { startEngine } from '../engine/engine.js';
import { createLeaderElection } from '../engine/leader.js';
import { createEtcdClient } from '../registry/client.js';
import { createEngineStore } from '../registry/engine-store.js';
import { DEFAULT_KEY_PREFIX } from '../registry/types.js';
import { createLogger } from '../units/log.js';

const [endpoint, machineID, ttl, maxTxnOps] = process.argv.slice(2);
if (!endpoint || !machineID) {
  process.stderr.write('usage: engine-child.ts <endpoint> <machineID> [leaseTtlSeconds]\n');
  process.exit(2);
}
const client = createEtcdClient({
  endpoints: [endpoint],
  keyPrefix: DEFAULT_KEY_PREFIX,
  requestTimeoutMs: 5000,
});
const ns = client.namespace(DEFAULT_KEY_PREFIX);
const log = createLogger('engine', { level: process.env.FLEET_LOG_LEVEL ?? 'warn' });
const say = (event: string, extra: object = {}) =>
  process.stdout.write(`${JSON.stringify({ event, machineID, at: Date.now(), ...extra })}\n`);
const leader = createLeaderElection({
  ns,
  machineID,
  ttlSeconds: Number(ttl ?? 2),
  log,
  retryIntervalMs: 200,
});
leader.on('elected', () => say('elected'));
leader.on('deposed', (reason) => say('deposed', { reason }));
const engine = startEngine({
  store: createEngineStore(ns, log, { maxTxnOps: Number(maxTxnOps ?? 128) }),
  leader,
  log,
  reconcileIntervalMs: 2000,
  machineID,
  debounceMs: 30,
  onCommitted: (changes) => {
    let puts = 0;
    for (const c of changes) if (c.kind === 'put') puts++;
    say('committed', { puts, deletes: changes.length - puts });
  },
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
