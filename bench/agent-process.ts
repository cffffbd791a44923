// Starts bench/agent-child.ts for one machine or a group of machines and follows its JSON lines.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BenchMachine } from './workload.js';

const AGENT_CHILD = fileURLToPath(new URL('./agent-child.ts', import.meta.url));
/** Killed when the harness exits, however it exits (one 'exit' listener for all of them). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface AgentProcess {
  readonly machines: readonly BenchMachine[];
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  /** The most watch events for other machines' keys that any one of its agents saw so far. */
  foreignWatchEvents(): Promise<number>;
  /** SIGTERM; resolves with the same count as foreignWatchEvents, taken as the agents stopped. */
  stop(): Promise<number>;
}

/** Runs `machines` in one child process; their unit files go under `dir`/<index>. */
export async function spawnAgentProcess(
  endpoint: string,
  dir: string,
  ttlMs: number,
  machines: readonly BenchMachine[],
): Promise<AgentProcess> {
  await mkdir(dir, { recursive: true });
  const machinesFile = join(dir, 'machines.json');
  await writeFile(machinesFile, JSON.stringify(machines));
  // BENCH_CPU_PROF=<dir>: the agents' processes write V8 CPU profiles there too.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const child = spawn(
    process.execPath,
    [...prof, '--import', 'tsx', AGENT_CHILD, endpoint, dir, String(ttlMs), machinesFile],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  live.add(child);
  child.once('exit', () => live.delete(child));
  const name = `bench agents ${machines[0]?.id ?? ''}${machines.length > 1 ? ` (+${machines.length - 1})` : ''}`;
  let onReady: () => void = () => undefined;
  let onStopped: (foreign: number) => void = () => undefined;
  const reports: ((foreign: number) => void)[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    child.once('exit', (code, sig) => reject(new Error(`${name} exited (${code ?? sig})`)));
  });
  ready.catch(() => undefined); // awaited by the caller later; never an unhandled rejection meanwhile
  const stopped = new Promise<number>((resolve) => {
    onStopped = resolve;
    child.once('exit', () => resolve(-1));
  });
  child.once('exit', () => {
    for (const r of reports.splice(0)) r(-1);
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    try {
      const ev = JSON.parse(line) as { event?: string; foreign?: number };
      if (ev.event === 'ready') onReady();
      else if (ev.event === 'report') reports.shift()?.(ev.foreign ?? -1);
      else if (ev.event === 'stopped') onStopped(ev.foreign ?? -1);
    } catch {
      // not one of ours
    }
  });
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    machines,
    child,
    ready,
    foreignWatchEvents: () =>
      exited()
        ? Promise.resolve(-1)
        : new Promise<number>((resolve) => {
            reports.push(resolve);
            child.stdin?.write('report\n');
          }),
    stop: async () => {
      if (exited()) return stopped;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const n = await stopped;
      clearTimeout(timer);
      return n;
    },
  };
}

/** Peak resident set size (VmHWM) of a live process, in MiB; NaN when it cannot be read. */
export function peakRssMiB(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Math.round(Number(m[1]) / 1024) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
