// fleetctl's entry: argv -> commander -> one command -> exit code. Everything the process touches is
// injected (IO, registry opener, unit model) so tests run the real CLI in-process.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { errorLine, errorMessage } from '../../units/common.js';
import { normalizeArgv } from './argv.js';
import type { DriverDeps, FleetClient } from './client.js';
import {
  DEFAULT_LIST_MACHINES_FIELDS,
  DEFAULT_LIST_UNIT_FILES_FIELDS,
  DEFAULT_LIST_UNITS_FIELDS,
} from './columns.js';
import { runCat } from './commands/cat.js';
import { type DrainOptions, runDrain, runUndrain } from './commands/drain.js';
import {
  type BlockOptions,
  type CreateOptions,
  runDestroy,
  runLoad,
  runRestart,
  runStart,
  runStop,
  runSubmit,
  runUnload,
} from './commands/lifecycle.js';
import { type ListOptions, runListMachines, runListUnitFiles, runListUnits } from './commands/list.js';
import { runVerify, runVersion } from './commands/misc.js';
import type { PlanOptions } from './commands/plan.js';
import {
  type JournalFlags,
  runFdForward,
  runJournal,
  runSsh,
  runStatus,
  type SshFlags,
} from './commands/remote.js';
import type { RollingUpdateOptions } from './commands/rolling-update.js';
import { type ListRunsOptions, runListRuns } from './commands/runs.js';
import type { SyncOptions } from './commands/sync.js';
import type { CommandContext, UnitModel } from './context.js';
import { openClient } from './driver.js';
import { fleetHelp } from './help.js';
import { CliError, type CliIO, printer } from './io.js';
import { camel, GLOBAL_FLAGS, type GlobalOptions, parseFlagValue, resolveGlobalOptions } from './options.js';

export interface MainDeps {
  readonly driver: DriverDeps;
  readonly model: UnitModel;
}

const intArg = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`"${v}" is not a non-negative integer (--${name})`);
  return Number.parseInt(v, 10);
};

function blockOptions(c: Command, withNoBlock = true): Command {
  c.option(
    '--block-attempts <n>',
    'Wait until the units reach the state, polling N times (2 s each); 0 waits forever',
    intArg('block-attempts'),
    0,
  );
  if (withNoBlock) c.option('--no-block', 'Do not wait until the units have reached the desired state');
  return c;
}

function listOptions(c: Command, defaultFields: string, validFields: string): Command {
  return c
    .option('--fields <list>', `Columns to print, comma-separated; valid: ${validFields}`, defaultFields)
    .option('-l, --full', 'Do not ellipsize fields on output')
    .option('--no-legend', 'Do not print a legend (column headers)')
    .option('--output <format>', 'table (default, as fleet) or json', 'table');
}

function addGlobalOptions(program: Command): void {
  for (const f of GLOBAL_FLAGS) {
    if (f.kind === 'bool') {
      program.addOption(new Option(`--${f.name}`, f.description));
      program.addOption(new Option(`--no-${f.name}`).hideHelp());
    } else {
      program.addOption(
        new Option(`--${f.name} <value>`, f.description).argParser((v: string) => {
          try {
            return parseFlagValue(f, v, `--${f.name}`);
          } catch (err) {
            throw new InvalidArgumentError(errorMessage(err).replace(/^Error: /, ''));
          }
        }),
      );
    }
  }
}

export function buildProgram(
  run: (fn: (ctx: CommandContext) => Promise<number> | number) => Promise<void>,
  writeOut: (s: string) => void = () => {},
): Command {
  const program = new Command('fleetctl')
    .description('fleetctl is a command-line interface to fleet, the cluster-wide CoreOS init system.')
    .exitOverride()
    .allowExcessArguments(false)
    // Set before the subcommands are added: they copy these settings when created. Errors are
    // printed by main() as one line, so commander itself prints none.
    .configureOutput({ writeOut, writeErr: () => {}, outputError: () => {} });
  addGlobalOptions(program);

  const units = (c: Command) => c.argument('[units...]');

  const cmd = (name: string, summary: string) => program.command(name).summary(summary).description(summary);

  units(cmd('submit', 'Upload one or more units to the cluster without starting them'))
    .option('--replace', 'Replace the old scheduled units in the cluster with new versions.')
    .action((args: string[], o: CreateOptions) => run((ctx) => runSubmit(ctx, args, o)));
  units(
    blockOptions(
      cmd('load', 'Schedule one or more units in the cluster, first submitting them if necessary.'),
    ),
  )
    .option('--replace', 'Replace the old scheduled units in the cluster with new versions.')
    .action((args: string[], o: CreateOptions) => run((ctx) => runLoad(ctx, args, o)));
  units(
    blockOptions(
      cmd(
        'start',
        'Instruct systemd to start one or more units in the cluster, first submitting and loading if necessary.',
      ),
    ),
  )
    .option('--replace', 'Replace the already started units in the cluster with new versions.')
    .action((args: string[], o: CreateOptions) => run((ctx) => runStart(ctx, args, o)));
  units(blockOptions(cmd('stop', 'Instruct systemd to stop one or more units in the cluster.'))).action(
    (args: string[], o: BlockOptions) => run((ctx) => runStop(ctx, args, o)),
  );
  units(blockOptions(cmd('unload', 'Unschedule one or more units in the cluster.'))).action(
    (args: string[], o: BlockOptions) => run((ctx) => runUnload(ctx, args, o)),
  );
  units(blockOptions(cmd('destroy', 'Destroy one or more units in the cluster'))).action(
    (args: string[], o: BlockOptions) => run((ctx) => runDestroy(ctx, args, o)),
  );
  units(
    blockOptions(cmd('restart', 'Instruct systemd to restart one or more units in the cluster.'), false),
  ).action((args: string[], o: BlockOptions) => run((ctx) => runRestart(ctx, args, o)));
  units(cmd('cat', 'Output the contents of a submitted unit')).action((args: string[]) =>
    run((ctx) => runCat(ctx, args)),
  );
  listOptions(
    cmd('list-units', 'List the current state of units in the cluster'),
    DEFAULT_LIST_UNITS_FIELDS,
    'active,hash,health,load,machine,sub,unit',
  ).action((o: ListOptions) => run((ctx) => runListUnits(ctx, o)));
  listOptions(
    cmd('list-unit-files', 'List the units that exist in the cluster.'),
    DEFAULT_LIST_UNIT_FILES_FIELDS,
    'desc,dstate,global,hash,reason,schedule,state,target,tmachine,unit',
  ).action((o: ListOptions) => run((ctx) => runListUnitFiles(ctx, o)));
  listOptions(
    cmd('list-machines', 'Enumerate the current hosts in the cluster'),
    DEFAULT_LIST_MACHINES_FIELDS,
    'heartbeat,ip,leader,machine,metadata,state,units,version',
  ).action((o: ListOptions) => run((ctx) => runListMachines(ctx, o)));
  cmd('drain', 'Move the units off a machine and take no new ones (fleet-ts)')
    .argument('[machine...]')
    .option('--no-block', 'Do not wait until the units have moved')
    .option(
      '--block-attempts <n>',
      'Wait at most N polls (2 s each) for the units to move; 0 waits until done',
      intArg('block-attempts'),
      0,
    )
    .action((args: string[], o: DrainOptions) => run((ctx) => runDrain(ctx, args, o)));
  cmd('etcd-roles', 'Print the etcdctl script that creates least-privilege etcd roles (fleet-ts)')
    .argument('[machine...]')
    .option(
      '--engine <ids>',
      'Comma-separated IDs of engine machines (fleetd without disable_engine): their user also holds fleet-engine',
      '',
    )
    .action((args: string[], o: { engine: string }) =>
      run(async (ctx) =>
        (await import('./commands/etcd-roles.js')).runEtcdRoles(
          ctx,
          args,
          o.engine.split(',').filter((id) => id !== ''),
        ),
      ),
    );
  cmd('undrain', 'Let a drained machine take units again (fleet-ts)')
    .argument('[machine...]')
    .action((args: string[]) => run((ctx) => runUndrain(ctx, args)));
  units(cmd('plan', 'Show where units would be placed if started now, and change nothing (fleet-ts)'))
    .option('-l, --full', 'Do not ellipsize fields on output')
    .option('--no-legend', 'Do not print a legend (column headers)')
    .option('--output <format>', 'table (default) or json', 'table')
    .action((args: string[], o: PlanOptions) =>
      run(async (ctx) => (await import('./commands/plan.js')).runPlan(ctx, args, o)),
    );
  units(cmd('list-runs', 'List the last runs of a scheduled unit (cluster cron)'))
    .option('-n, --lines <n>', 'Number of recent runs to show', intArg('lines'), 10)
    .option('--no-legend', 'Do not print a legend (column headers)')
    .option('--output <format>', 'table (default) or json: {unit, next, runs}', 'table')
    .action((args: string[], o: ListRunsOptions) => run((ctx) => runListRuns(ctx, args, o)));
  units(cmd('status', 'Output the status of one or more units in the cluster'))
    .option('--machine <id>', 'For a global unit: the machine (ID or unique ID prefix) to ask')
    .action((args: string[], o: { machine?: string }) => run((ctx) => runStatus(ctx, args, o)));
  units(cmd('journal', 'Print the journal of a unit in the cluster to stdout'))
    .option('-n, --lines <n>', 'Number of recent log lines to return', intArg('lines'), 10)
    .option('-f, --follow', 'Continuously print new entries as they are appended to the journal.')
    .option('--sudo', 'Execute journal command with sudo')
    .option('--output <mode>', 'Output mode. This will be passed unaltered to journalctl.', 'short')
    .option('--machine <id>', 'For a global unit: the machine (ID or unique ID prefix) to read from')
    .action((args: string[], o: JournalFlags) => run((ctx) => runJournal(ctx, args, o)));
  cmd('ssh', 'Open interactive shell on a machine in the cluster')
    .argument('[target-and-command...]')
    .option('--machine <id>', 'Open SSH connection to a specific machine.')
    .option('--unit <name>', 'Open SSH connection to machine running provided unit.')
    .option('-A, --forward-agent', 'Forward local ssh-agent to target machine.')
    .action((args: string[], o: SshFlags) => run((ctx) => runSsh(ctx, args, o)));
  cmd('fd-forward', 'Proxy stdin and stdout to a unix domain socket')
    .argument('[socket...]')
    .action((args: string[]) => run((ctx) => runFdForward(ctx, args)));
  cmd('sync', 'Make the cluster run the unit files of a directory (once, or with --watch continuously)')
    .argument('[dir...]')
    .option('--watch', 'Keep watching the directory and converge on every change until interrupted')
    .option('--dry-run', 'Print the plan (submit/start/replace/destroy per unit) and change nothing')
    .option('--origin <name>', 'Ownership name recorded on the units (default: the absolute directory path)')
    .action((args: string[], o: SyncOptions) =>
      run(async (ctx) => (await import('./commands/sync.js')).runSync(ctx, args, o)),
    );
  cmd(
    'rolling-update',
    'Replace the running instances of a template, a few at a time, each healthy before the next',
  )
    .argument('[template-file...]')
    .option('--max-parallel <n>', 'Instances replaced at the same time', '1')
    .option(
      '--min-healthy-time <duration>',
      'How long an instance must be active and healthy to count',
      '10s',
    )
    .option(
      '--healthy-deadline <duration>',
      'How long a replaced instance may take to count; then roll back',
      '5m',
    )
    .option('--dry-run', 'Print which instances would be replaced, in order, and change nothing')
    .action((args: string[], o: RollingUpdateOptions) =>
      run(async (ctx) => (await import('./commands/rolling-update.js')).runRollingUpdate(ctx, args, o)),
    );
  cmd('verify', 'DEPRECATED - No longer works')
    .argument('[units...]')
    .action(() => run((ctx) => runVerify(ctx)));
  cmd('version', 'Print the version and exit').action(() => run((ctx) => runVersion(ctx)));
  program.helpCommand('help [command]', 'Help about any command');
  program.configureHelp({ formatHelp: (c) => fleetHelp(c) });
  for (const c of program.commands) c.exitOverride().configureHelp({ formatHelp: (x) => fleetHelp(x) });
  return program;
}

/** Names of the commands, for cobra-style prefix matching. */
export function commandNames(): string[] {
  return [...buildProgram(async () => {}).commands.map((c) => c.name()), 'help'];
}

/** Commander's "error: unknown option '--x'" as fleet-style one line. */
function commanderMessage(err: CommanderError): string {
  const msg = err.message.replace(/^error: /, '').split('\n')[0] ?? err.message;
  if (err.code === 'commander.unknownCommand') return `Error: ${msg}. Run 'fleetctl help' for usage.`;
  return `Error: ${msg.charAt(0).toLowerCase()}${msg.slice(1)}. Run 'fleetctl help' for usage.`;
}

/** Runs fleetctl with `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIO, deps: MainDeps): Promise<number> {
  const print = printer(io);
  let client: FleetClient | undefined;
  let exitCode = 0;
  try {
    const first = argv[0];
    if (first === '--version' || first === '-v') argv = ['version', ...argv.slice(1)];
    const normalized = normalizeArgv(argv, commandNames());
    let ctxGlobals: GlobalOptions | undefined;
    const program = buildProgram(async (fn) => {
      const given = program.opts();
      const picked: Record<string, unknown> = {};
      for (const f of GLOBAL_FLAGS) picked[camel(f.name)] = given[camel(f.name)];
      ctxGlobals = resolveGlobalOptions(picked, io.env);
      const globals = ctxGlobals;
      const ctx: CommandContext = {
        io,
        print,
        globals,
        model: deps.model,
        client: async () => {
          if (!client) client = await openClient(globals, deps.driver);
          return client;
        },
      };
      exitCode = await fn(ctx);
    }, io.stdout);
    if (normalized.length === 0) {
      io.stdout(fleetHelp(program));
      return 0;
    }
    const names = commandNames();
    if (normalized[0] === 'help' && normalized[1] !== undefined && !names.includes(normalized[1])) {
      print.err(
        `Error: unknown command "${normalized[1]}" for "fleetctl help". Run 'fleetctl help' for usage.`,
      );
      return 1;
    }
    await program.parseAsync([...normalized], { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return 0;
      print.err(commanderMessage(err));
      return 1;
    }
    if (err instanceof CliError) {
      print.err(err.message);
      return err.exitCode;
    }
    print.err(`Error: ${errorLine(err)}`);
    return 1;
  } finally {
    if (client) await client.close().catch(() => {});
  }
}
