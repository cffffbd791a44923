// Benchmark agents in their own process: one, so its peak RSS can be read from /proc, or a group, so
// 1,000 agents do not share one event loop with the harness. The same agents as in the harness
// (bench/bench-agent.ts): real etcd, in-memory systemd, unit files on tmpfs under <dir>/<index>.
// Prints `{"event":"ready"}` once every agent announced; a `report` line on stdin answers
// `{"event":"report","foreign":N}` (most watch events for other machines' keys of any one agent);
// SIGTERM stops the agents and prints `{"event":"stopped","foreign":N}` before exiting.
// Usage: node --import tsx bench/agent-child.ts <endpoint> <dir> <ttlMs> <machines.json>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from '../registry/client.js';
import { DEFAULT_KEY_PREFIX } from '../registry/types.js';
import { createLogger } from '../units/log.js';
import { type BenchAgent, startBenchAgent, startInWaves } from './bench-agent.js';
import type { BenchMachine } from './workload.js';

const [endpointArg, dirArg, ttl, machinesFile] = process.argv.slice(2);
if (!endpointArg || !dirArg || !ttl || !machinesFile) {
  process.stderr.write('usage: agent-child.ts <endpoint> <dir> <ttlMs> <machines.json>\n');
  process.exit(2);
}
const endpoint: string = endpointArg;
const dir: string = dirArg;
const machines = JSON.parse(readFileSync(machinesFile, 'utf8')) as BenchMachine[];
const log = createLogger('bench-agent', { level: process.env.FLEET_LOG_LEVEL ?? 'silent' });
const clients: Etcd3[] = [];
const running: BenchAgent[] = [];

const say = (event: string, extra: object = {}) =>
  process.stdout.write(`${JSON.stringify({ event, ...extra })}\n`);
const foreign = () => Math.max(0, ...running.map((r) => r.store.foreignWatchEvents()));

(async () => {
  const newNamespace = () => {
    const c = createEtcdClient({
      endpoints: [endpoint],
      keyPrefix: DEFAULT_KEY_PREFIX,
      requestTimeoutMs: 10_000,
    });
    clients.push(c);
    return c.namespace(DEFAULT_KEY_PREFIX);
  };
  await startInWaves(machines, newNamespace, async (m, i, ns) => {
    const a = startBenchAgent(ns, join(dir, String(i)), Number(ttl), m, log);
    running.push(a);
    await a.agent.ready;
  });
  say('ready');
})().catch((err: unknown) => {
  process.stderr.write(`bench agents ${machines[0]?.id ?? ''}…: ${String(err)}\n`);
  process.exit(1);
});

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'report') say('report', { foreign: foreign() });
});
process.on('SIGTERM', () => {
  void (async () => {
    await Promise.all(running.map((r) => r.agent.stop({ purge: false }).catch(() => undefined)));
    say('stopped', { foreign: foreign() });
    for (const c of clients) c.close();
    process.exit(0);
  })();
});
