// One benchmark agent in its own process, so its peak RSS can be read from /proc (the others share the
// harness's process). Same parts as the in-process agents (bench/cluster.ts): real etcd, in-memory
// systemd, unit files on tmpfs. Prints `{"event":"ready"}` once announced and, on SIGTERM,
// `{"event":"stopped","foreign":N}` (watch events for other machines' keys) before exiting.
// Usage: node --import tsx bench/agent-child.ts <endpoint> <dir> <ttlMs> <machine JSON>
import { startAgent } from '../agent/agent.js';
import { InMemorySystemd } from '../agent/systemd/fake.js';
import { UnitFileStore } from '../agent/unit-files.js';
import { EtcdAgentStore } from '../registry/agent-store.js';
import { createEtcdClient } from '../registry/client.js';
import { DEFAULT_KEY_PREFIX } from '../registry/types.js';
import { createLogger } from '../units/log.js';
import { FLEET_TS_VERSION } from '../units/version.js';
import type { BenchMachine } from './workload.js';

const [endpoint, dir, ttl, machineJson] = process.argv.slice(2);
if (!endpoint || !dir || !ttl || !machineJson) {
  process.stderr.write('usage: agent-child.ts <endpoint> <dir> <ttlMs> <machine JSON>\n');
  process.exit(2);
}
const m = JSON.parse(machineJson) as BenchMachine;
const client = createEtcdClient({
  endpoints: [endpoint],
  keyPrefix: DEFAULT_KEY_PREFIX,
  requestTimeoutMs: 10_000,
});
const log = createLogger('bench-agent', { level: process.env.FLEET_LOG_LEVEL ?? 'silent' });
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
  driver: new InMemorySystemd({ systemdDir: `${dir}/system`, record: false }),
  files: new UnitFileStore({ unitsDir: `${dir}/units`, systemdDir: `${dir}/system` }),
  ttlMs: Number(ttl),
  log,
  version: FLEET_TS_VERSION,
  disableEngine: true,
});
const say = (event: string, extra: object = {}) =>
  process.stdout.write(`${JSON.stringify({ event, ...extra })}\n`);
agent.ready.then(
  () => say('ready'),
  (err: unknown) => {
    process.stderr.write(`bench agent ${m.id}: ${String(err)}\n`);
    process.exit(1);
  },
);
process.on('SIGTERM', () => {
  void (async () => {
    await agent.stop({ purge: false }).catch(() => undefined);
    say('stopped', { foreign: store.foreignWatchEvents() });
    client.close();
    process.exit(0);
  })();
});
