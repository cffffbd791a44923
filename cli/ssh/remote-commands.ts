// The remote command lines fleetctl runs over SSH. fleet Go-quoted (%q) its arguments, which a POSIX
// shell does not fully understand (`$` and backquotes stay live inside double quotes); we use
// single quotes, which a POSIX shell takes literally, so a unit name can never inject a command.

/** Quote one argument for a POSIX shell: `'…'`, with embedded `'` written as `'\''`. */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('a shell argument cannot contain a NUL byte');
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Join a command and its arguments into one shell-safe line. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/**
 * `fleetctl status UNIT` → `systemctl status -l -- 'UNIT'`: after `--` a name starting with `-` is a
 * name, never an option (fleet ran `systemctl status -l UNIT`).
 */
export function statusCommand(unit: string): string {
  return `systemctl status -l -- ${shellQuote(unit)}`;
}

export interface JournalCommandOptions {
  /** `-n`: number of recent lines (fleet's --lines, default 10). */
  readonly lines: number;
  /** `-f`: keep printing new entries. */
  readonly follow: boolean;
  /** `--output` mode of journalctl (fleet's default 'short'). */
  readonly output: string;
  /** Prefix with `sudo` (fleet's --sudo). */
  readonly sudo: boolean;
}

/**
 * `fleetctl journal UNIT` → `journalctl --unit 'UNIT' --no-pager -n 10 --output 'short' [-f]`. The name
 * is `--unit`'s required argument, which getopt takes as is even when it starts with `-`.
 */
export function journalCommand(unit: string, opts: JournalCommandOptions): string {
  if (!Number.isSafeInteger(opts.lines) || opts.lines < 0) {
    throw new Error(`invalid number of journal lines: ${opts.lines}`);
  }
  const parts = [
    ...(opts.sudo ? ['sudo'] : []),
    'journalctl',
    '--unit',
    shellQuote(unit),
    '--no-pager',
    '-n',
    String(opts.lines),
    '--output',
    shellQuote(opts.output),
  ];
  if (opts.follow) parts.push('-f');
  return parts.join(' ');
}
