// Running commands in a machine: nsenter into all its namespaces from the host, or real SSH as root.
import { oneLine, run } from './process.js';
import type { ExecResult, Machine, MachineRecord } from './types.js';

export interface ExecOptions {
  input?: string;
  timeoutMs?: number;
}

export function machineNamed(machines: ReadonlyMap<string, MachineRecord>, name: string): MachineRecord {
  const m = machines.get(name);
  if (!m) throw new Error(`unknown machine ${name}`);
  return m;
}

/** argv prefix that runs a host binary inside the machine. */
export function nsenterPrefix(m: Machine): string[] {
  return ['nsenter', '-t', String(m.leaderPid), '-a', '--'];
}

/** Runs argv inside the machine; never throws on exit codes. */
export async function execIn(
  machines: ReadonlyMap<string, MachineRecord>,
  name: string,
  cmd: readonly string[],
  o: ExecOptions = {},
): Promise<ExecResult> {
  const m = machineNamed(machines, name);
  if (!m.running()) throw new Error(`machine ${name} is not running`);
  const [bin, ...args] = [...nsenterPrefix(m), ...cmd];
  return run(bin ?? 'nsenter', args, o);
}

/** Like execIn but throws (one line, with stderr) unless the exit code is 0. */
export async function execOkIn(
  machines: ReadonlyMap<string, MachineRecord>,
  name: string,
  cmd: readonly string[],
  o: ExecOptions = {},
): Promise<string> {
  const r = await execIn(machines, name, cmd, o);
  if (r.code !== 0) {
    throw new Error(`[${name}] ${cmd.join(' ')} failed (exit ${r.code}): ${oneLine(r.stderr || r.stdout)}`);
  }
  return r.stdout;
}

/** Runs a shell command over SSH as root, trusting only the host keys the harness collected. */
export function sshTo(
  m: Machine,
  keys: { sshKeyFile: string; knownHostsFile: string },
  command: string,
  o: { timeoutMs?: number } = {},
): Promise<ExecResult> {
  return run(
    'ssh',
    [
      '-i',
      keys.sshKeyFile,
      '-o',
      `UserKnownHostsFile=${keys.knownHostsFile}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=5',
      '-o',
      'LogLevel=ERROR',
      `root@${m.ip}`,
      command,
    ],
    o,
  );
}
