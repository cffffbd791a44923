// A child process run to its end with its output kept: how tests and benchmarks run fleetctl.
import { spawn } from 'node:child_process';

export interface ChildResult {
  /** The exit code; null when a signal ended the child. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunChildOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Written to stdin, which stays open until the child closes (it must exit by itself); else no stdin. */
  readonly input?: string;
  /** SIGKILL after this long: the result then has `signal: 'SIGKILL'`. */
  readonly timeoutMs?: number;
}

/** Runs `command args` and resolves once it has exited and its output is read; rejects if it cannot start. */
export function runChild(
  command: string,
  args: readonly string[],
  opts: RunChildOptions = {},
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    if (opts.input !== undefined) child.stdin?.write(opts.input);
    const timer =
      opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      child.stdin?.destroy();
      resolve({ code, signal, stdout, stderr });
    });
  });
}
