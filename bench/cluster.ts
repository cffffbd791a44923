// The benchmark cluster: a real etcd, engines in child processes, M real agents (in-memory systemd,
// unit files on tmpfs like /run) in this process or in child processes, and an observer that follows
// schedule/, state/ and machines/ through its own watch. stop() always removes everything it started.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Etcd3, Namespace, Watcher } from 'etcd3';
import { createEtcdClient } from '../registry/client.js';
import {
  jobKey,
  SCHEDULE_PREFIX,
  STATE_PREFIX,
  splitMachineUnitKey,
  unitContentKey,
} from '../registry/keys.js';
import { encodeJob } from '../registry/records.js';
import { DEFAULT_KEY_PREFIX } from '../registry/types.js';
import { type EtcdServer, startEtcd } from '../test/support/etcd.js';
import { createLogger } from '../units/log.js';
import { serializeUnit } from '../units/serialize.js';
import type { UnitSpec } from '../units/types.js';
import { type AgentProcess, spawnAgentProcess } from './agent-process.js';
import { type BenchAgent, startBenchAgent, startInWaves } from './bench-agent.js';
import type { BenchMachine } from './workload.js';

const ENGINE_CHILD = fileURLToPath(new URL('./engine-child.ts', import.meta.url));

export interface EngineProcess {
  readonly id: string;
  readonly child: ChildProcess;
  /** Wall-clock times (ms) of commits and schedule puts per commit, as the engine reported them. */
  readonly commits: { at: number; puts: number; deletes: number }[];
  isLeader(): boolean;
  /** Resolves on this engine's next `elected` line. */
  elected(): Promise<number>;
}

/** What the observer knows, from its own watches. */
export class Observer {
  /** unit -> machines on which it is scheduled. */
  readonly scheduled = new Map<string, Set<string>>();
  /** unit -> machines reporting it active. */
  readonly active = new Map<string, Set<string>>();
  activePairs = 0;
  readonly machinesGone = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private watchers: Watcher[] = [];

  constructor(private readonly ns: Namespace) {}

  async start(): Promise<void> {
    const add = (map: Map<string, Set<string>>, unit: string, machine: string): boolean => {
      const s = map.get(unit) ?? new Set<string>();
      map.set(unit, s);
      if (s.has(machine)) return false;
      s.add(machine);
      return true;
    };
    const remove = (map: Map<string, Set<string>>, unit: string, machine: string): boolean => {
      const s = map.get(unit);
      if (!s?.delete(machine)) return false;
      if (s.size === 0) map.delete(unit);
      return true;
    };
    const sched = await this.ns.watch().prefix(SCHEDULE_PREFIX).create();
    sched.on('put', (kv) => {
      const p = splitMachineUnitKey(SCHEDULE_PREFIX, kv.key.toString());
      if (p) add(this.scheduled, p.unit, p.machineID);
      this.notify();
    });
    sched.on('delete', (kv) => {
      const p = splitMachineUnitKey(SCHEDULE_PREFIX, kv.key.toString());
      if (p) remove(this.scheduled, p.unit, p.machineID);
      this.notify();
    });
    const states = await this.ns.watch().prefix(STATE_PREFIX).create();
    states.on('put', (kv) => {
      const p = splitMachineUnitKey(STATE_PREFIX, kv.key.toString());
      if (!p) return;
      const isActive = (JSON.parse(kv.value.toString()) as { active?: string }).active === 'active';
      if (isActive ? add(this.active, p.unit, p.machineID) : remove(this.active, p.unit, p.machineID))
        this.activePairs += isActive ? 1 : -1;
      this.notify();
    });
    states.on('delete', (kv) => {
      const p = splitMachineUnitKey(STATE_PREFIX, kv.key.toString());
      if (p && remove(this.active, p.unit, p.machineID)) this.activePairs--;
      this.notify();
    });
    const machines = await this.ns.watch().prefix('machines/').create();
    machines.on('delete', (kv) => {
      const key = kv.key.toString();
      if (key.endsWith('/object')) this.machinesGone.set(key.split('/')[1] ?? '', Date.now());
      this.notify();
    });
    this.watchers = [sched, states, machines];
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with Date.now() when `done()` holds (checked after every event); rejects after timeoutMs. */
  until(what: string, done: () => boolean, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      if (done()) {
        resolve(Date.now());
        return;
      }
      const check = () => {
        if (!done()) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(Date.now());
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.cancel().catch(() => undefined)));
  }
}

export interface ClusterOptions {
  readonly machines: readonly BenchMachine[];
  readonly engines: number;
  readonly agentTtlMs: number;
  readonly engineTtlS: number;
  /** etcd's --max-txn-ops (its default is 128); the engine and the submitter size transactions to it. */
  readonly maxTxnOps: number;
  /** This many of the machines (the first ones) run their agent in a child process, to read its RSS. */
  readonly agentProcesses?: number;
  /**
   * The other machines' agents run in this many child processes instead of the harness's own (0): at
   * 1,000 agents one event loop is the bottleneck, not the engine or etcd.
   */
  readonly agentGroups?: number;
}

export interface BenchCluster {
  readonly etcd: EtcdServer;
  readonly ns: Namespace;
  readonly observer: Observer;
  readonly agents: BenchAgent[];
  readonly engines: EngineProcess[];
  /** The agents running in child processes: agentProcesses single ones first, then agentGroups. */
  readonly agentProcesses: AgentProcess[];
  leader(): EngineProcess | undefined;
  /** Writes contents then jobs in batched transactions (like an API client submitting many units). */
  submit(units: readonly UnitSpec[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchCluster(opts: ClusterOptions): Promise<BenchCluster> {
  const etcd = await startEtcd({ extraArgs: ['--max-txn-ops', String(opts.maxTxnOps)] });
  const SUBMIT_BATCH = opts.maxTxnOps - 1;
  const clients: Etcd3[] = [];
  const newClient = (): Etcd3 => {
    const c = createEtcdClient({
      endpoints: [etcd.endpoint],
      keyPrefix: DEFAULT_KEY_PREFIX,
      requestTimeoutMs: 10_000,
    });
    clients.push(c);
    return c;
  };
  const ns = newClient().namespace(DEFAULT_KEY_PREFIX);
  const observer = new Observer(ns);
  const agents: BenchAgent[] = [];
  const engines: EngineProcess[] = [];
  const agentProcesses: AgentProcess[] = [];
  // Unit files on tmpfs, as the agent's /run/fleet/units would be.
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const root = await mkdtemp(join(base, 'fleet-ts-bench-'));
  const log = createLogger('bench', { level: process.env.FLEET_LOG_LEVEL ?? 'silent' });
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // SIGTERM first (a clean exit writes CPU profiles), SIGKILL after 3 s.
    await Promise.all(
      engines.map(async (e) => {
        const c = e.child;
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise<void>((r) => c.once('exit', () => r()));
        c.kill('SIGTERM');
        const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await Promise.all(agentProcesses.map((a) => a.stop()));
    await observer.stop();
    await Promise.all(agents.map((a) => a.agent.stop({ purge: false }).catch(() => undefined)));
    for (const c of clients) c.close();
    await rm(root, { recursive: true, force: true });
    await etcd.stop();
  };

  try {
    await observer.start();
    for (let i = 0; i < opts.engines; i++)
      engines.push(spawnEngine(etcd.endpoint, `engine${i}`, opts.engineTtlS, opts.maxTxnOps));
    await Promise.race(engines.map((e) => e.elected()));

    const single = opts.machines.slice(0, opts.agentProcesses ?? 0);
    const others = opts.machines.slice(single.length);
    const groups = Math.min(opts.agentGroups ?? 0, others.length);
    const size = Math.ceil(others.length / Math.max(1, groups));
    const spawned = single.map((m) => [m]);
    for (let i = 0; groups > 0 && i < others.length; i += size) spawned.push(others.slice(i, i + size));
    agentProcesses.push(
      ...(await Promise.all(
        spawned.map((ms, i) => spawnAgentProcess(etcd.endpoint, join(root, `p${i}`), opts.agentTtlMs, ms)),
      )),
    );
    await startInWaves(
      groups > 0 ? [] : others,
      () => newClient().namespace(DEFAULT_KEY_PREFIX),
      async (m, i, agentNs) => {
        const a = startBenchAgent(agentNs, join(root, String(i)), opts.agentTtlMs, m, log);
        agents.push(a);
        await a.agent.ready;
      },
    );
    await Promise.all(agentProcesses.map((p) => p.ready));
  } catch (err) {
    await stop();
    throw err;
  }

  const submit = async (units: readonly UnitSpec[]): Promise<void> => {
    const contents = new Map<string, string>();
    for (const u of units) if (!contents.has(u.hash)) contents.set(u.hash, serializeUnit(u.options));
    const hashes = [...contents];
    for (let i = 0; i < hashes.length; i += SUBMIT_BATCH) {
      await ns
        .if(unitContentKey(hashes[0]?.[0] ?? ''), 'Version', '>', -1)
        .then(...hashes.slice(i, i + SUBMIT_BATCH).map(([h, text]) => ns.put(unitContentKey(h)).value(text)))
        .commit();
    }
    const batches: UnitSpec[][] = [];
    for (let i = 0; i < units.length; i += SUBMIT_BATCH) batches.push(units.slice(i, i + SUBMIT_BATCH));
    let next = 0;
    const worker = async () => {
      for (let b = batches[next++]; b; b = batches[next++]) {
        let txn = ns.if(jobKey(b[0]?.name ?? ''), 'Create', '==', 0);
        for (const u of b.slice(1)) txn = txn.and(jobKey(u.name), 'Create', '==', 0);
        const res = await txn
          .then(
            ...b.map((u) =>
              ns
                .put(jobKey(u.name))
                .value(encodeJob({ name: u.name, hash: u.hash, desiredState: u.desiredState })),
            ),
          )
          .commit();
        if (!res.succeeded) throw new Error('benchmark submit: a unit already existed');
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  };

  return {
    etcd,
    ns,
    observer,
    agents,
    engines,
    agentProcesses,
    leader: () => engines.find((e) => e.isLeader()),
    submit,
    stop,
  };
}

function spawnEngine(endpoint: string, id: string, ttlS: number, maxTxnOps: number): EngineProcess {
  // BENCH_CPU_PROF=<dir>: each engine writes a V8 CPU profile there when it exits (SIGTERM/normal).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const child = spawn(
    process.execPath,
    [...prof, '--import', 'tsx', ENGINE_CHILD, endpoint, id, String(ttlS), String(maxTxnOps)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  process.once('exit', () => child.kill('SIGKILL'));
  const commits: { at: number; puts: number; deletes: number }[] = [];
  let leader = false;
  let electedWaiters: ((at: number) => void)[] = [];
  let exited = false;
  child.once('exit', () => {
    exited = true;
    leader = false;
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    let ev: {
      event?: string;
      at?: number;
      puts?: number;
      deletes?: number;
      reason?: string;
      loopDelayMaxMs?: number;
    };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      return;
    }
    const at = ev.at ?? Date.now();
    if (ev.event === 'elected') {
      leader = true;
      const ws = electedWaiters;
      electedWaiters = [];
      for (const w of ws) w(at);
    } else if (ev.event === 'deposed') {
      leader = false;
      process.stderr.write(
        `[bench] ${id} deposed: ${ev.reason} (longest event-loop delay since the last: ${ev.loopDelayMaxMs} ms)\n`,
      );
    } else if (ev.event === 'committed') commits.push({ at, puts: ev.puts ?? 0, deletes: ev.deletes ?? 0 });
  });
  return {
    id,
    child,
    commits,
    isLeader: () => leader && !exited,
    elected: () =>
      new Promise<number>((resolve, reject) => {
        if (exited) reject(new Error(`engine ${id} exited`));
        electedWaiters.push(resolve);
        child.once('exit', (code, sig) => reject(new Error(`engine ${id} exited (${code ?? sig})`)));
      }),
  };
}
