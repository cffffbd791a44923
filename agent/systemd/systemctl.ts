// The real SystemdDriver: runs `systemctl` and `journalctl` as child processes (why not D-Bus:
// docs/architecture.md). An optional command prefix (e.g. `nsenter -t PID -a`) runs every command
// inside another machine; the tests use it to drive the systemd of an nspawn container from the host.
// The output parsers are in ./systemctl-output.ts.
import { execFile } from 'node:child_process';
import { metrics } from '../../metrics/metrics.js';
import type { Logger } from '../../units/log.js';
import { validateUnitName } from '../../units/names.js';
import type { SystemdState } from '../../units/types.js';
import type { SystemdDriver, SystemdRunResult } from './driver.js';
import {
  parseJournalRun,
  parseListUnitsOutput,
  parseRunStatus,
  parseShowOutput,
  sampleClocks,
} from './systemctl-output.js';

export interface SystemctlOptions {
  /** fleet's `systemd_user`: talk to the user's systemd instance (`--user`). */
  readonly user?: boolean;
  /** Argv prepended to every command, e.g. ['nsenter', '-t', '1234', '-a']. */
  readonly commandPrefix?: readonly string[];
  /** Deadline of ordinary calls (default 30 s). `stop` gets `stopTimeoutMs`. */
  readonly timeoutMs?: number;
  /** Deadline of `systemctl stop`, which waits for the unit to go down (default 120 s). */
  readonly stopTimeoutMs?: number;
  readonly systemctlPath?: string;
  readonly journalctlPath?: string;
  /** Each call and how long it took, at debug level (where an agent's time goes). */
  readonly log?: Logger;
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A systemctl/journalctl call that failed; `message` is one line and carries systemctl's stderr. */
export class SystemctlError extends Error {
  constructor(
    message: string,
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'SystemctlError';
  }
}

/**
 * Unit names are passed after `--`, but a `/` would make systemctl treat the argument as a path.
 * The driver only ever handles fleet units, whose names the agent has checked with the same rule
 * (validateUnitName, stricter than systemd's), so a refusal here means a bug upstream: it must not
 * reach systemctl.
 */
function checkUnitName(name: string): void {
  const problem = validateUnitName(name);
  if (problem !== null) throw new Error(`invalid unit name ${JSON.stringify(name)}: ${problem}`);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Most names systemctl gets per call (`show`, batch start/stop); keeps argv far below ARG_MAX. */
const NAMES_PER_CALL = 1000;

/** First systemd that loads a never-seen unit's new file on demand (manager_unit_cache_should_retry_load). */
const LAZY_LOAD_SINCE = 246;

/** systemd's "unit not loaded" exit status (LSB "program is not installed"). */
const EXIT_NOT_LOADED = 5;

const CHILD_ENV = {
  ...process.env,
  SYSTEMD_PAGER: '',
  SYSTEMD_COLORS: '0',
  SYSTEMD_LESS: '',
  LC_ALL: 'C',
};

export class SystemctlDriver implements SystemdDriver {
  private readonly prefix: readonly string[];
  private readonly timeoutMs: number;
  private readonly stopTimeoutMs: number;
  private readonly systemctl: string;
  private readonly journalctl: string;
  private readonly user: boolean;
  private readonly log: Logger | undefined;
  private versionRead: Promise<number> | undefined;

  constructor(opts: SystemctlOptions = {}) {
    this.prefix = opts.commandPrefix ?? [];
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 120_000;
    this.systemctl = opts.systemctlPath ?? 'systemctl';
    this.journalctl = opts.journalctlPath ?? 'journalctl';
    this.user = opts.user ?? false;
    this.log = opts.log;
  }

  async daemonReload(): Promise<void> {
    await this.systemctlOk(['daemon-reload']);
  }

  async enableUnit(name: string): Promise<void> {
    checkUnitName(name);
    await this.systemctlOk(['enable', '--runtime', '--force', '--', name]);
  }

  /** Idempotent: disabling a unit systemd does not know is not an error. */
  async disableUnit(name: string): Promise<void> {
    checkUnitName(name);
    await this.systemctlOk(['disable', '--runtime', '--no-reload', '--', name], { notLoadedIsOk: true });
  }

  async startUnit(name: string): Promise<void> {
    checkUnitName(name);
    await this.systemctlOk(['start', '--no-block', '--', name]);
  }

  /** Waits until the unit is down. Idempotent: stopping a unit that is not loaded succeeds. */
  async stopUnit(name: string): Promise<void> {
    checkUnitName(name);
    await this.systemctlOk(['stop', '--', name], { timeoutMs: this.stopTimeoutMs, notLoadedIsOk: true });
  }

  /** One `systemctl start --no-block` for all names (in chunks far below ARG_MAX). */
  async startUnits(names: readonly string[]): Promise<void> {
    for (const n of names) checkUnitName(n);
    for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
      await this.systemctlOk(['start', '--no-block', '--', ...names.slice(i, i + NAMES_PER_CALL)]);
    }
  }

  /**
   * One `systemctl stop` for all names: systemd queues the stop jobs together and runs them in
   * parallel; returns when all are down. Names systemd does not know are fine, as in stopUnit.
   */
  async stopUnits(names: readonly string[]): Promise<void> {
    for (const n of names) checkUnitName(n);
    for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
      await this.systemctlOk(['stop', '--', ...names.slice(i, i + NAMES_PER_CALL)], {
        timeoutMs: this.stopTimeoutMs,
        notLoadedIsOk: true,
      });
    }
  }

  async restartUnit(name: string): Promise<void> {
    checkUnitName(name);
    await this.systemctlOk(['restart', '--no-block', '--', name]);
  }

  async killUnit(name: string): Promise<void> {
    checkUnitName(name);
    await this.systemctlOk(['kill', '--signal=SIGKILL', '--', name], { notLoadedIsOk: true });
  }

  /** Idempotent: a unit that is not loaded has nothing to reset. */
  async resetFailed(name: string): Promise<void> {
    checkUnitName(name);
    await this.systemctlOk(['reset-failed', '--', name], { notLoadedIsOk: true });
  }

  async disableUnits(names: readonly string[]): Promise<void> {
    await this.batch(['disable', '--runtime', '--no-reload'], names);
  }

  async resetFailedUnits(names: readonly string[]): Promise<void> {
    await this.batch(['reset-failed'], names);
  }

  /** One `systemctl <verb> -- names…` per NAMES_PER_CALL names; not-loaded names are fine. */
  private async batch(verb: readonly string[], names: readonly string[]): Promise<void> {
    for (const n of names) checkUnitName(n);
    for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
      await this.systemctlOk([...verb, '--', ...names.slice(i, i + NAMES_PER_CALL)], { notLoadedIsOk: true });
    }
  }

  /**
   * One `list-units` call (a single D-Bus request, ~10 ms for 100 units) instead of `show`, which asks
   * for every property of each unit and took 0.1-0.7 s for 100 units while systemd was starting them.
   * Units list-units does not report (not in systemd's memory, or aliases) are read with `show`.
   */
  async unitStates(names: readonly string[]): Promise<Map<string, SystemdState>> {
    const unique = [...new Set(names)];
    for (const n of unique) checkUnitName(n);
    const out = await this.listUnits(unique);
    const rest = unique.filter((n) => !out.has(n));
    for (let i = 0; i < rest.length; i += NAMES_PER_CALL) {
      const batch = rest.slice(i, i + NAMES_PER_CALL);
      const r = await this.systemctlOk(['show', '-p', 'Id,LoadState,ActiveState,SubState', '--', ...batch]);
      for (const [k, v] of parseShowOutput(r.stdout, batch)) out.set(k, v);
    }
    return new Map(unique.flatMap((n) => (out.has(n) ? [[n, out.get(n) as SystemdState]] : [])));
  }

  /**
   * systemd ≥ 246 reads the file of a unit it has never loaded when that unit is first started, so new
   * units need no daemon-reload; a unit it holds in memory (running, failed, or cached as not found)
   * keeps its old definition until one. Older systemd caches the unit directories' listing: always.
   */
  async reloadNeededFor(names: readonly string[]): Promise<boolean> {
    if ((await this.version()) < LAZY_LOAD_SINCE) return true;
    for (const n of names) checkUnitName(n);
    // Names with a backslash are glob escapes to list-units: they could go unseen, so reload for them.
    if (names.some((n) => n.includes('\\'))) return true;
    return (await this.listUnits(names)).size > 0;
  }

  /** States of the named units systemd holds in memory (`list-units --all`; patterns = the names). */
  private async listUnits(names: readonly string[]): Promise<Map<string, SystemdState>> {
    const out = new Map<string, SystemdState>();
    for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
      const batch = names.slice(i, i + NAMES_PER_CALL);
      const args = ['list-units', '--all', '--plain', '--no-legend', '--full', '--', ...batch];
      const r = await this.systemctlOk(args);
      for (const [k, v] of parseListUnitsOutput(r.stdout, batch)) out.set(k, v);
    }
    return out;
  }

  /** systemd's version from `systemctl --version` (0 when unreadable: treated as old), asked once. */
  private version(): Promise<number> {
    this.versionRead ??= this.run(this.systemctl, ['--version'], this.timeoutMs).then(
      (r) => Number(/^systemd (\d+)/m.exec(r.stdout)?.[1] ?? 0),
      () => 0,
    );
    return this.versionRead;
  }

  async runStatus(name: string): Promise<SystemdRunResult> {
    checkUnitName(name);
    const r = await this.systemctlOk([
      'show',
      '-p',
      'ActiveState,Result,ExecMainStatus,ExecMainStartTimestampMonotonic,ExecMainExitTimestampMonotonic',
      '--',
      name,
    ]);
    const st = parseRunStatus(r.stdout, sampleClocks());
    // Inactive with no trace of a run: systemd may have garbage-collected the unit after a successful
    // run (see parseJournalRun). The user manager's messages are not matched by _PID=1: skip it there.
    if (st.active !== 'inactive' || st.startedAt !== null || this.user) return st;
    const j = await this.run(
      this.journalctl,
      ['--no-pager', '-o', 'json', '-n', '50', '_PID=1', `UNIT=${name}`],
      this.timeoutMs,
    );
    return (j.code === 0 ? parseJournalRun(j.stdout) : null) ?? st;
  }

  private userFlag(): string[] {
    return this.user ? ['--user'] : [];
  }

  private async systemctlOk(
    args: readonly string[],
    opts: { timeoutMs?: number; notLoadedIsOk?: boolean } = {},
  ): Promise<CommandResult> {
    const argv = [...this.userFlag(), ...args];
    const r = await this.run(this.systemctl, argv, opts.timeoutMs ?? this.timeoutMs);
    if (r.code === 0) return r;
    if (opts.notLoadedIsOk && isNotLoaded(r)) return r;
    const shown = ['systemctl', ...argv.filter((a) => a !== '--')].join(' ');
    metrics.systemctlFailures.inc({ command: commandLabel(this.systemctl, args) });
    throw new SystemctlError(
      `${shown} failed (exit ${r.code}): ${oneLine(r.stderr) || oneLine(r.stdout) || 'no output'}`,
      [...this.prefix, this.systemctl, ...argv],
      r.code,
      r.stderr,
    );
  }

  /** Runs one command; resolves with its exit code, rejects only if it could not run or timed out. */
  private run(bin: string, args: readonly string[], timeoutMs: number): Promise<CommandResult> {
    const command = commandLabel(bin, args);
    const done = metrics.systemctlDuration.startTimer({ command });
    const started = performance.now();
    return this.exec(bin, args, timeoutMs).then(
      (r) => {
        done();
        const ms = Math.round(performance.now() - started);
        const names = args.length - args.indexOf('--') - 1;
        this.log?.debug(
          { command, names: args.includes('--') ? names : 0, ms, exit: r.code },
          `${bin} ${command}: ${ms} ms`,
        );
        return r;
      },
      (err: unknown) => {
        done();
        metrics.systemctlFailures.inc({ command });
        throw err;
      },
    );
  }

  private exec(bin: string, args: readonly string[], timeoutMs: number): Promise<CommandResult> {
    const argv = [...this.prefix, bin, ...args];
    const [cmd, ...rest] = argv;
    return new Promise((resolve, reject) => {
      execFile(
        cmd ?? bin,
        rest,
        { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20, env: CHILD_ENV },
        (err, stdout, stderr) => {
          if (!err) return resolve({ code: 0, stdout, stderr });
          const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
          if (e.killed) {
            return reject(
              new SystemctlError(`${argv.join(' ')} timed out after ${timeoutMs} ms`, argv, null, stderr),
            );
          }
          if (typeof e.code === 'number') return resolve({ code: e.code, stdout, stderr });
          const why = e.code === 'ENOENT' ? `${cmd} not found (is systemd installed?)` : e.message;
          reject(new SystemctlError(`${argv.join(' ')}: ${oneLine(why)}`, argv, null, stderr));
        },
      );
    });
  }
}

const NOT_LOADED = /not loaded|does not exist|not found/i;

/** The metric label of a call: systemctl's verb (`start`, `show`, ...), or the program for others. */
function commandLabel(bin: string, args: readonly string[]): string {
  if (!bin.endsWith('systemctl')) return bin.slice(bin.lastIndexOf('/') + 1);
  return args.find((a) => !a.startsWith('-')) ?? 'systemctl';
}

/**
 * systemctl failed only because units were not loaded. With several names systemctl prints one
 * "Failed to ..." line per name that failed and exits with the first failure's code, so every error
 * line must say "not loaded": a real failure among them must not pass as "nothing to do".
 */
function isNotLoaded(r: CommandResult): boolean {
  const failed = r.stderr.split('\n').filter((l) => NOT_LOADED.test(l) || /^Failed\b|error/i.test(l));
  if (r.code === EXIT_NOT_LOADED && failed.length <= 1) return true;
  return failed.length > 0 && failed.every((l) => NOT_LOADED.test(l));
}
