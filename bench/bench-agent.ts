// One benchmark agent (real etcd, in-memory systemd, unit files under its own directory) and the
// waves in which many of them announce; shared by the harness's process and bench/agent-child.ts.
import { join } from 'node:path';
import type { Namespace } from 'etcd3';
import { type Agent, startAgent } from '../agent/agent.js';
import { InMemorySystemd } from '../agent/systemd/fake.js';
import { UnitFileStore } from '../agent/unit-files.js';
import { EtcdAgentStore } from '../registry/agent-store.js';
import type { Logger } from '../units/log.js';
import { FLEET_TS_VERSION } from '../units/version.js';
import type { BenchMachine } from './workload.js';

/** Agents per etcd client (one gRPC connection); real machines have one each, 1,000 would be wasteful. */
const AGENTS_PER_CLIENT = 10;
/** Agents announced at once, so 1,000 agents do not open 1,000 leases in the same millisecond. */
const ANNOUNCE_WAVE = 50;

export interface BenchAgent {
  readonly machine: BenchMachine;
  readonly agent: Agent;
  readonly store: EtcdAgentStore;
}

/** Starts the agent of `m` with its unit files under `dir`; `agent.ready` says when it announced. */
export function startBenchAgent(
  etcd: Namespace,
  dir: string,
  ttlMs: number,
  m: BenchMachine,
  log: Logger,
): BenchAgent {
  const store = new EtcdAgentStore({ etcd, machineID: m.id, ttlMs, log });
  const agent = startAgent({
    machineID: m.id,
    publicIP: m.publicIP,
    metadata: m.metadata,
    store,
    driver: new InMemorySystemd({ systemdDir: join(dir, 'system'), record: false }),
    files: new UnitFileStore({ unitsDir: join(dir, 'units'), systemdDir: join(dir, 'system') }),
    ttlMs,
    log,
    version: FLEET_TS_VERSION,
    disableEngine: true,
  });
  return { machine: m, agent, store };
}

/**
 * Calls `start` for every machine, ANNOUNCE_WAVE at a time, with a new etcd namespace (a new client)
 * every AGENTS_PER_CLIENT machines; resolves when every start has.
 */
export async function startInWaves(
  machines: readonly BenchMachine[],
  newNamespace: () => Namespace,
  start: (m: BenchMachine, index: number, ns: Namespace) => Promise<void>,
): Promise<void> {
  let ns = newNamespace();
  for (let i = 0; i < machines.length; i += ANNOUNCE_WAVE) {
    const wave: Promise<void>[] = [];
    for (let j = i; j < Math.min(machines.length, i + ANNOUNCE_WAVE); j++) {
      if (j > 0 && j % AGENTS_PER_CLIENT === 0) ns = newNamespace();
      wave.push(start(machines[j] as BenchMachine, j, ns));
    }
    await Promise.all(wave);
  }
}
