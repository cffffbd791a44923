// Running the demo's commands the way a user types them: each printed command line is run as is by
// /bin/sh, in the environment the demo's `export` line gives a fresh shell, and recorded (command,
// exit code, output) in the transcript the e2e test checks.
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { BIN_DIR, type DemoState, KNOWN_HOSTS, SSH_KEY, TRANSCRIPT, UNIT_DIR } from './state.js';

/** The variables of the closing `export` line (PATH aside). */
export function demoVariables(st: DemoState): Record<string, string> {
  return {
    FLEETCTL_DRIVER: 'etcd',
    FLEETCTL_ENDPOINT: st.endpoint ?? '',
    // The demo machines authorize the demo key for root (fleet's default user is core).
    FLEETCTL_SSH_USERNAME: 'root',
    FLEETCTL_SSH_IDENTITY_FILE: SSH_KEY,
    FLEETCTL_KNOWN_HOSTS_FILE: KNOWN_HOSTS,
  };
}

/** One line to paste into any shell: afterwards `fleetctl` is the demo's and can reach it by SSH. */
export function exportLine(st: DemoState): string {
  const vars = Object.entries(demoVariables(st)).map(([k, v]) => `${k}=${v}`);
  return `export PATH=${BIN_DIR}:"$PATH" ${vars.join(' ')}`;
}

/** The environment of a shell after the export line. */
export function demoEnv(st: DemoState): NodeJS.ProcessEnv {
  return { ...process.env, ...demoVariables(st), PATH: `${BIN_DIR}:${process.env.PATH ?? '/usr/bin:/bin'}` };
}

export interface Run {
  readonly command: string;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command line without printing it (the demo's own polling). */
export function quiet(st: DemoState, command: string, timeoutMs = 60_000): Run {
  const r = spawnSync('/bin/sh', ['-c', command], {
    cwd: UNIT_DIR,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: demoEnv(st),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error) throw new Error(`${command}: ${r.error.message}`);
  return { command, code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** Prints `$ COMMAND` and its output as in a terminal, records it; fails the demo on a non-zero exit. */
export function shown(st: DemoState, command: string, note?: string): Run {
  console.log(`\n$ ${command}${note ? `      # ${note}` : ''}`);
  const r = quiet(st, command, 120_000);
  process.stdout.write(r.stdout);
  process.stdout.write(r.stderr);
  appendFileSync(TRANSCRIPT, `${JSON.stringify(r)}\n`);
  if (r.code !== 0) throw new Error(`\`${command}\` exited with ${r.code}`);
  return r;
}

/** A fleetctl JSON listing, polled quietly; undefined when fleetctl failed (the caller retries). */
export function listJson<T>(st: DemoState, what: 'list-units' | 'list-machines'): T[] | undefined {
  const r = quiet(st, `fleetctl ${what} --output json`, 20_000);
  if (r.code !== 0) return undefined;
  return JSON.parse(r.stdout) as T[];
}
