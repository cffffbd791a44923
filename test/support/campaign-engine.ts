// A child process that campaigns for engine leadership and runs the engine while it leads, like fleetd
// with only its engine part. Prints one JSON line per leadership change on stdout.
// Usage: node --import tsx test/support/campaign-engine.ts <endpoint> <machineID> <ttlSeconds> <reconcileMs>
import { startEngine } from '../../engine/engine.js';
import { createLeaderElection } from '../../engine/leader.js';
import { createEtcdClient } from '../../registry/client.js';
import { createEngineStore } from '../../registry/engine-store.js';
import { createLogger } from '../../units/log.js';

const [endpoint, machineID, ttl, reconcile] = process.argv.slice(2);
if (!endpoint || !machineID) {
  process.stderr.write('usage: campaign-engine.ts <endpoint> <machineID> [ttlSeconds] [reconcileMs]\n');
  process.exit(2);
}
const prefix = '/_coreos.com/fleet/';
// 10 s: with 1 s, requests on a loaded machine timed out and the campaign never won (no leader at all).
const client = createEtcdClient({ endpoints: [endpoint], keyPrefix: prefix, requestTimeoutMs: 10_000 });
const ns = client.namespace(prefix);
const log = createLogger('engine', { level: process.env.FLEET_LOG_LEVEL ?? 'warn' });
const leader = createLeaderElection({
  ns,
  machineID,
  ttlSeconds: Number(ttl ?? 2),
  log,
  retryIntervalMs: 500,
});
const say = (event: string, extra: object = {}) =>
  process.stdout.write(`${JSON.stringify({ event, machineID, at: Date.now(), ...extra })}\n`);
leader.on('elected', (g) => say('elected', { createRevision: g.createRevision }));
leader.on('deposed', (reason) => say('deposed', { reason }));
const engine = startEngine({
  store: createEngineStore(ns, log),
  leader,
  log,
  reconcileIntervalMs: Number(reconcile ?? 500),
  machineID,
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
