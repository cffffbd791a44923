// Benchmark agents in their own process: one, so its peak RSS can be read from /proc, or a group, so
// 1,000 agents do not share one event loop with the harness. Same parts as the in-process agents
// (bench/cluster.ts): real etcd, in-memory systemd, unit files on tmpfs under <dir>/<index>.
// Prints `{"event":"ready"}` once every agent announced; a `report` line on stdin answers
// `{"event":"report","foreign":N}` (most watch events for other machines' keys of any one agent);
// SIGTERM stops the agents and prints `{"event":"stopped","foreign":N}` before exiting.
// Usage: node --import tsx bench/agent-child.ts <endpoint> <dir> <ttlMs> <machines.json>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Etcd3 } from 'etcd3';
import { type Agent, startAgent } from '../agent/agent.js';
import { InMemorySystemd } from '../agent/systemd/fake.js';
import { UnitFileStore } from '../agent/unit-files.js';
import { EtcdAgentStore } from '../registry/agent-store.js';
import { createEtcdClient } from '../registry/client.js';
import { DEFAULT_KEY_PREFIX } from '../registry/types.js';
import { createLogger } from '../units/log.js';
import { FLEET_TS_VERSION } from '../units/version.js';
import type { BenchMachine } from './workload.js';

/** Agents per etcd client (one gRPC connection), as in the harness's own process. */
const AGENTS_PER_CLIENT = 10;
/** Announced at once, so a group does not open all its leases in the same millisecond. */
const ANNOUNCE_WAVE = 50;

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
const running: { agent: Agent; store: EtcdAgentStore }[] = [];

function startOne(m: BenchMachine, i: number): Promise<void> {
  if (i % AGENTS_PER_CLIENT === 0)
    clients.push(
      createEtcdClient({ endpoints: [endpoint], keyPrefix: DEFAULT_KEY_PREFIX, requestTimeoutMs: 10_000 }),
    );
  const client = clients[clients.length - 1] as Etcd3;
  const machineDir = join(dir, String(i));
  const store = new EtcdAgentStore({
    etcd: client.namespace(DEFAULT_KEY_PREFIX),
    machineID: m.id,
    ttlMs: Number(ttl),
    log,
  });
  const agent = startAgent({
    machineID: m.id,
    publicIP: m.publicIP,
    metadata: m.metadata,
    store,
    driver: new InMemorySystemd({ systemdDir: join(machineDir, 'system'), record: false }),
    files: new UnitFileStore({ unitsDir: join(machineDir, 'units'), systemdDir: join(machineDir, 'system') }),
    ttlMs: Number(ttl),
    log,
    version: FLEET_TS_VERSION,
    disableEngine: true,
  });
  running.push({ agent, store });
  return agent.ready;
}

const say = (event: string, extra: object = {}) =>
  process.stdout.write(`${JSON.stringify({ event, ...extra })}\n`);
const foreign = () => Math.max(0, ...running.map((r) => r.store.foreignWatchEvents()));

(async () => {
  for (let i = 0; i < machines.length; i += ANNOUNCE_WAVE)
    await Promise.all(machines.slice(i, i + ANNOUNCE_WAVE).map((m, j) => startOne(m, i + j)));
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
