// The demo's state directory and the processes it recorded there.
//
// Every PID the demo starts is recorded with its kernel start time in <state dir>/state.json; the
// demo only ever signals a recorded PID that still has that start time.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** FLEET_DEMO_DIR lets the e2e test run its own demo next to a user's (default /run/fleet-ts-demo). */
export const STATE_DIR = resolve(process.env.FLEET_DEMO_DIR || '/run/fleet-ts-demo');
export const STATE_FILE = join(STATE_DIR, 'state.json');
export const KEEPER_LOG = join(STATE_DIR, 'keeper.log');
/** The unit files the demo shows (`cat`, `submit`): fleetctl runs with this as its working directory. */
export const UNIT_DIR = join(STATE_DIR, 'units');
/** The demo key, authorized for root on every machine, and the machines' host keys. */
export const SSH_KEY = join(STATE_DIR, 'ssh', 'id_ed25519');
export const KNOWN_HOSTS = join(STATE_DIR, 'ssh', 'known_hosts');
/** Holds a `fleetctl` that runs this checkout's build. */
export const BIN_DIR = join(STATE_DIR, 'bin');
/** Every command the demo printed, with its exit code and output (read by the e2e test). */
export const TRANSCRIPT = join(STATE_DIR, 'transcript.jsonl');
export const FLEETCTL = join(PROJECT, 'dist/cli/fleetctl.js');
export const FLEETD = join(PROJECT, 'dist/cli/fleetd.js');
/** The one machine whose fleetd watches a directory (unit_watch_directory). */
export const WATCH_DIR = '/var/lib/fleet-watch';

export interface Proc {
  pid: number;
  start: string | null;
}

export interface DemoMachine {
  name: string;
  ip: string;
  machineID: string;
  nspawn: Proc;
  leader: Proc;
  /** Its fleetd watches WATCH_DIR. */
  watcher: boolean;
}

export interface DemoState {
  keeper: Proc;
  /** Set once the keeper is up and the cluster booted; error when booting failed. */
  ready?: boolean;
  error?: string;
  bootMs?: number;
  bridge?: string;
  /** etcd as both this host and the machines reach it (the bridge address), for --tunnel too. */
  endpoint?: string;
  etcd?: Proc & { dataDir: string };
  machines?: DemoMachine[];
}

/** Kernel start time of a process (field 22 of /proc/PID/stat), or null when it is gone. */
export function procStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

export function proc(pid: number): Proc {
  return { pid, start: procStart(pid) };
}

/** The recorded process still runs (a zombie does not: nothing reaps orphans in some containers). */
export function alive(p: Proc): boolean {
  if (p.pid <= 1 || p.start === null || procStart(p.pid) !== p.start) return false;
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function signal(p: Proc, sig: NodeJS.Signals): void {
  if (!alive(p)) return;
  try {
    process.kill(p.pid, sig);
  } catch {
    // gone meanwhile
  }
}

export async function waitDead(procs: readonly Proc[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (procs.some(alive)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

export function readState(): DemoState | undefined {
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as DemoState;
  } catch {
    return undefined;
  }
}

export function writeState(st: DemoState): void {
  mkdirSync(STATE_DIR, { recursive: true });
  const tmp = `${STATE_FILE}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(st, null, 2)}\n`);
  renameSync(tmp, STATE_FILE);
}

export async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}
