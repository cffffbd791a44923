// A child process that campaigns for engine leadership and runs the engine while it leads, like fleetd
// with only its engine part. Prints one JSON line per leadership change on stdout.
// Usage: node --import tsx test/support/campaign-engine.ts <endpoint> <machineID> <ttlSeconds> <reconcileMs>
import { runEngineProcess } from './engine-process.js';

const [endpoint, machineID, ttl, reconcile] = process.argv.slice(2);
if (!endpoint || !machineID) {
  process.stderr.write('usage: campaign-engine.ts <endpoint> <machineID> [ttlSeconds] [reconcileMs]\n');
  process.exit(2);
}
runEngineProcess({
  endpoint,
  machineID,
  ttlSeconds: Number(ttl ?? 2),
  // 10 s: with 1 s, requests on a loaded machine timed out and the campaign never won (no leader at all).
  requestTimeoutMs: 10_000,
  retryIntervalMs: 500,
  reconcileIntervalMs: Number(reconcile ?? 500),
});
