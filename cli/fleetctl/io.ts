// What a fleetctl command may touch besides the registry: its output streams, environment, working
// directory and local files. Injected so tests run the real CLI in-process and capture every byte.
import { readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface CliIO {
  /** Writes exactly `text` to stdout (no newline added). */
  stdout(text: string): void;
  stderr(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Contents of a local file, or null when it does not exist. Other read errors throw. */
  readLocalFile(path: string): string | null;
  /** Sleep used by the blocking commands' polls (tests may shorten it). */
  sleep(ms: number): Promise<void>;
}

export function processIO(): CliIO {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
    readLocalFile: readLocalFile,
    sleep,
  };
}

export function readLocalFile(path: string): string | null {
  try {
    if (!statSync(path).isFile()) return null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return readFileSync(path, 'utf8');
}

/** A failure the user sees as ONE line on stderr and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Printer helpers: fleet adds a newline to every message that lacks one. */
export function line(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

export interface Printer {
  out(text: string): void;
  err(text: string): void;
}

export function printer(io: CliIO): Printer {
  return { out: (t) => io.stdout(line(t)), err: (t) => io.stderr(line(t)) };
}
