// One engine in its own process (as in fleetd, minus the agent), so the benchmark can read its CPU
// time from /proc and SIGKILL it. Prints one JSON line per event on stdout: `elected`, `deposed`, and
// `committed` (schedule puts/deletes written by one plan) with the wall-clock time it committed.
// Usage: node --import tsx bench/engine-child.ts <endpoint> <machineID> <leaseTtlSeconds> [maxTxnOps]
import { runEngineProcess } from '../test/support/engine-process.js';

const [endpoint, machineID, ttl, maxTxnOps] = process.argv.slice(2);
if (!endpoint || !machineID) {
  process.stderr.write('usage: engine-child.ts <endpoint> <machineID> [leaseTtlSeconds]\n');
  process.exit(2);
}
runEngineProcess({
  endpoint,
  machineID,
  ttlSeconds: Number(ttl ?? 2),
  requestTimeoutMs: 5000,
  retryIntervalMs: 200,
  reconcileIntervalMs: 2000,
  debounceMs: 30,
  maxTxnOps: Number(maxTxnOps ?? 128),
  reportCommits: true,
});
