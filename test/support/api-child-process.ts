// Runs test/support/api-child.ts (optionally under a command prefix such as prlimit or
// systemd-socket-activate) and reads its JSON lines.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const ROOT = new URL('../../', import.meta.url).pathname;
const CHILD = new URL('./api-child.ts', import.meta.url).pathname;

export interface ApiChild {
  readonly process: ChildProcess;
  /** The next JSON line the child prints (rejects when it exits first). */
  next(): Promise<Record<string, unknown>>;
  stderr(): string;
  stop(): Promise<void>;
}

export function spawnApiChild(prefix: readonly string[], env: Record<string, string>): ApiChild {
  const [cmd, ...args] = [...prefix, process.execPath, '--import', 'tsx', CHILD];
  const child = spawn(cmd as string, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d.toString();
  });
  const lines: string[] = [];
  const waiting: ((line: string | null) => void)[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  });
  child.on('exit', () => {
    for (const w of waiting.splice(0)) w(null);
  });
  return {
    process: child,
    next: () =>
      new Promise((resolve, reject) => {
        const take = (line: string | null): void => {
          if (line === null) reject(new Error(`API child exited (${child.exitCode}): ${err}`));
          else resolve(JSON.parse(line) as Record<string, unknown>);
        };
        const ready = lines.shift();
        if (ready !== undefined) take(ready);
        else if (child.exitCode !== null) take(null);
        else waiting.push(take);
      }),
    stderr: () => err,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      await exited;
    },
  };
}
