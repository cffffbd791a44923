// Starts bench/agent-child.ts for one machine and follows its JSON lines (see that file).
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BenchMachine } from './workload.js';

const AGENT_CHILD = fileURLToPath(new URL('./agent-child.ts', import.meta.url));

export interface AgentProcess {
  readonly machine: BenchMachine;
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  /** SIGTERM; resolves with the agent's count of watch events for other machines' keys. */
  stop(): Promise<number>;
}

export function spawnAgentProcess(
  endpoint: string,
  dir: string,
  ttlMs: number,
  m: BenchMachine,
): AgentProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', AGENT_CHILD, endpoint, dir, String(ttlMs), JSON.stringify(m)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  process.once('exit', () => child.kill('SIGKILL'));
  let onReady: () => void = () => undefined;
  let onStopped: (foreign: number) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    child.once('exit', (code, sig) => reject(new Error(`bench agent ${m.id} exited (${code ?? sig})`)));
  });
  const stopped = new Promise<number>((resolve) => {
    onStopped = resolve;
    child.once('exit', () => resolve(-1));
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    try {
      const ev = JSON.parse(line) as { event?: string; foreign?: number };
      if (ev.event === 'ready') onReady();
      else if (ev.event === 'stopped') onStopped(ev.foreign ?? -1);
    } catch {
      // not one of ours
    }
  });
  return {
    machine: m,
    child,
    ready,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return stopped;
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
