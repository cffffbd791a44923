// status, journal, ssh: run on the unit's (or a chosen) machine, over SSH through cli/ssh/ (locally
// when the machine is this one), plus fd-forward, the stdin/stdout <-> unix socket proxy.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { errorMessage } from '../../../units/common.js';
import type { MachineState } from '../../../units/types.js';
// The SSH transport (ssh2) is loaded only by the commands that connect, so every other fleetctl
// command starts without it (see sshTransport below).
import { HostKeyError } from '../../ssh/errors.js';
import type { SshIo } from '../../ssh/exec.js';
import { type SshOptions, sshOptionsFromGlobals } from '../../ssh/options.js';
import { journalCommand, statusCommand } from '../../ssh/remote-commands.js';
import type { CommandContext } from '../context.js';
import { assertSafeUnitName } from '../create.js';
import { CliError } from '../io.js';

/** ssh2 and the connection code, imported on first use (they are a large part of start-up). */
const sshTransport = () => import('../../ssh/exec.js');

/** Exit code fleet uses when SSH itself fails (its -1). */
export const SSH_FAILURE_EXIT = 255;

export interface SshFlags {
  readonly machine?: string;
  readonly unit?: string;
  readonly forwardAgent?: boolean;
}
export interface JournalFlags {
  readonly lines: number;
  readonly follow?: boolean;
  readonly sudo?: boolean;
  readonly output: string;
  readonly machine?: string;
}

function sshOptions(ctx: CommandContext, forwardAgent = false): SshOptions {
  return {
    ...sshOptionsFromGlobals(ctx.globals, ctx.io.env, forwardAgent),
    notice: (m) => ctx.print.err(m),
  };
}

function sshIo(ctx: CommandContext): SshIo {
  const sink = (write: (t: string) => void) =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        write(chunk.toString());
        cb();
      },
    });
  return { stdout: sink(ctx.io.stdout), stderr: sink(ctx.io.stderr) };
}

function localMachineID(): string | null {
  try {
    return readFileSync('/etc/machine-id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** Runs `argv` on `machine`: locally when it is this machine, otherwise over SSH. */
async function runOn(
  ctx: CommandContext,
  machine: MachineState,
  argv: readonly string[],
  remote: string,
): Promise<number> {
  if (machine.id === localMachineID()) {
    return new Promise((resolve) => {
      const child = spawn(argv[0] as string, argv.slice(1), { stdio: 'inherit' });
      child.on('error', (err) => {
        ctx.print.err(`Unable to run ${argv[0]} locally: ${err.message}`);
        resolve(1);
      });
      child.on('exit', (code) => resolve(code ?? SSH_FAILURE_EXIT));
    });
  }
  if (!machine.publicIP) throw new CliError('Could not determine address of machine.');
  try {
    const { sshExec } = await sshTransport();
    return await sshExec(machine.publicIP, remote, sshOptions(ctx), sshIo(ctx));
  } catch (err) {
    throw new CliError(`Unable to SSH to remote host: ${errorMessage(err)}`, SSH_FAILURE_EXIT);
  }
}

/** fleet's ssh --machine: a unique prefix of a machine ID. */
function machineByPrefix(machines: readonly MachineState[], prefix: string): MachineState | 'none' | 'many' {
  const found = machines.filter((m) => m.id.startsWith(prefix));
  if (found.length === 0) return 'none';
  if (found.length > 1) return 'many';
  return found[0] as MachineState;
}

/** The machine a unit command (status/journal) runs on; `--machine` picks one for a global unit. */
async function unitMachine(
  ctx: CommandContext,
  name: string,
  notRunning: string,
  globalMsg: string,
  pick?: string,
): Promise<MachineState> {
  const client = await ctx.client();
  const u = await client.getUnit(name);
  if (!u) throw new CliError(`Unit ${name} does not exist.`);
  const machines = await client.listMachines();
  let id = u.machineID;
  if (pick !== undefined) {
    const m = machineByPrefix(machines, pick);
    if (m === 'none') throw new CliError(`Machine ${pick} does not exist.`);
    if (m === 'many')
      throw new CliError(`Machine ${pick} matches more than one machine; give more of its ID.`);
    id = m.id;
  } else if (u.global) {
    throw new CliError(globalMsg);
  } else if ((u.currentState ?? 'inactive') === 'inactive') {
    // fleet-ts: a unit the engine cannot place says why, on a second line.
    throw new CliError(u.reason ? `${notRunning}\nUnit ${name} cannot be placed: ${u.reason}` : notRunning);
  }
  const machine = machines.find((m) => m.id === id);
  if (!machine) throw new CliError(`Error getting machine IP: machine ${id ?? '-'} is not in the cluster`);
  return machine;
}

export async function runStatus(
  ctx: CommandContext,
  args: readonly string[],
  flags: { machine?: string },
): Promise<number> {
  if (args.length === 0) throw new CliError('One or more units must be provided.');
  let first = true;
  for (const arg of args) {
    const name = ctx.model.mangle(arg);
    assertSafeUnitName(ctx, name);
    const machine = await unitMachine(
      ctx,
      name,
      `Unit ${name} does not appear to be loaded.`,
      `Unit ${name} is global: add --machine to choose which machine's status to show.`,
      flags.machine,
    );
    if (!first) ctx.io.stdout('\n');
    first = false;
    const code = await runOn(ctx, machine, ['systemctl', 'status', '-l', '--', name], statusCommand(name));
    if (code !== 0) return code;
  }
  return 0;
}

export async function runJournal(
  ctx: CommandContext,
  args: readonly string[],
  flags: JournalFlags,
): Promise<number> {
  if (args.length !== 1) throw new CliError('One unit file must be provided.');
  const name = ctx.model.mangle(args[0] as string);
  assertSafeUnitName(ctx, name);
  const machine = await unitMachine(
    ctx,
    name,
    `Unit ${name} does not appear to be running.`,
    `Unable to retrieve journal of global unit ${name}: add --machine to choose a machine.`,
    flags.machine,
  );
  const argv = [
    ...(flags.sudo ? ['sudo'] : []),
    'journalctl',
    '--unit',
    name,
    '--no-pager',
    '-n',
    String(flags.lines),
    '--output',
    flags.output,
    ...(flags.follow ? ['-f'] : []),
  ];
  const remote = journalCommand(name, {
    lines: flags.lines,
    follow: flags.follow ?? false,
    output: flags.output,
    sudo: flags.sudo ?? false,
  });
  return runOn(ctx, machine, argv, remote);
}

/** fleetctl ssh's target, as fleet resolved it: --machine (ID prefix), --unit, or the first argument as either. */
export async function resolveSshTarget(
  ctx: CommandContext,
  args: readonly string[],
  flags: SshFlags,
): Promise<{ machine: MachineState; rest: readonly string[] }> {
  if (flags.machine !== undefined && flags.unit !== undefined) {
    throw new CliError('Both machine and unit flags provided, please specify only one.');
  }
  const client = await ctx.client();
  const machines = await client.listMachines();
  const byUnit = async (arg: string): Promise<MachineState | 'none' | 'global'> => {
    const name = ctx.model.mangle(arg);
    if (name.includes('/') || name.includes('..')) return 'none';
    const u = await client.getUnit(name);
    if (!u) return 'none';
    if (u.global) return 'global';
    return machines.find((m) => m.id === u.machineID) ?? 'none';
  };
  let machine: MachineState;
  let rest = args;
  if (flags.machine !== undefined) {
    const m = machineByPrefix(machines, flags.machine);
    if (m === 'none') throw new CliError('Unable to proceed: machine does not exist');
    if (m === 'many') throw new CliError('Unable to proceed: found more than one machine');
    machine = m;
  } else if (flags.unit !== undefined) {
    const m = await byUnit(flags.unit);
    if (m === 'none') throw new CliError('Unable to proceed: unit does not exist');
    if (m === 'global') throw new CliError('Unable to proceed: global units unsupported');
    machine = m;
  } else {
    const target = args[0];
    if (target === undefined) throw new CliError('Unable to proceed: one machine or unit must be provided');
    rest = args.slice(1);
    const asMachine = machineByPrefix(machines, target);
    const asUnit = await byUnit(target);
    const mOk = typeof asMachine === 'object';
    const uOk = typeof asUnit === 'object';
    if (mOk && uOk && asMachine.id !== asUnit.id) {
      throw new CliError(
        `Unable to proceed: ambiguous argument, both machine and unit found for \`${target}\`; use --machine or --unit`,
      );
    }
    if (mOk) machine = asMachine;
    else if (uOk) machine = asUnit;
    else if (asMachine === 'many') throw new CliError('Unable to proceed: found more than one machine');
    else if (asUnit === 'global') throw new CliError('Unable to proceed: global units unsupported');
    else throw new CliError('Unable to proceed: could not find matching unit or machine');
  }
  if (!machine.publicIP) throw new CliError('Could not determine address of machine.');
  return { machine, rest };
}

export async function runSsh(ctx: CommandContext, args: readonly string[], flags: SshFlags): Promise<number> {
  const { machine, rest } = await resolveSshTarget(ctx, args, flags);
  const opts = sshOptions(ctx, flags.forwardAgent ?? false);
  const command = rest.join(' ');
  try {
    const { sshExec, sshShell } = await sshTransport();
    if (command === '') return await sshShell(machine.publicIP, opts);
    return await sshExec(machine.publicIP, command, opts, sshIo(ctx));
  } catch (err) {
    // fleet's codes: a refused host key means the client could not be built (1); a failed shell is
    // 1; a command that could not be run is its -1 (255).
    const msg = errorMessage(err);
    if (err instanceof HostKeyError) throw new CliError(`Failed building SSH client: ${msg}`);
    if (command === '') throw new CliError(`Failed opening shell over SSH: ${msg}`);
    throw new CliError(`Failed running command over SSH: ${msg}`, SSH_FAILURE_EXIT);
  } finally {
    // The shell read our stdin; a paused stdin no longer keeps the process alive once it is done.
    if (command === '') process.stdin.pause();
  }
}

/** fd-forward SOCKET: proxies stdin/stdout to a unix socket (what fleet's --tunnel runs remotely). */
export async function runFdForward(ctx: CommandContext, args: readonly string[]): Promise<number> {
  if (args.length !== 1) throw new CliError('Provide a single argument');
  const path = args[0] as string;
  return new Promise((resolve) => {
    const sock = connect(path);
    sock.on('error', (err) => {
      ctx.print.err(`Failed dialing remote address: ${err.message}`);
      resolve(1);
    });
    sock.on('connect', () => {
      process.stdin.pipe(sock);
      sock.pipe(process.stdout);
    });
    sock.on('close', () => resolve(0));
  });
}
