// Rewrites fleetctl's Go/cobra command-line spellings into what commander understands, before parsing:
// - cobra's unique-prefix command matching (`list-m` -> `list-machines`);
// - pflag's one-letter long flags (`--l`, `--f`, `--A`, `--h`) -> `-l`, `-f`, `-A`, `-h`;
// - Go bool syntax `--flag=true|false` -> `--flag` / `--no-flag` (or nothing for a command flag).
import { CliError } from './io.js';
import { COMMAND_BOOL_FLAGS, GLOBAL_FLAGS, parseGoBool } from './options.js';

// pflag registered these as long flags named with one letter; their long names here:
const ONE_LETTER: Readonly<Record<string, string>> = {
  l: 'full',
  f: 'follow',
  A: 'forward-agent',
  h: 'help',
  n: 'lines',
};
const GLOBAL_BOOLS = new Set(GLOBAL_FLAGS.filter((f) => f.kind === 'bool').map((f) => f.name));
const GLOBAL_VALUE_FLAGS = new Set(GLOBAL_FLAGS.filter((f) => f.kind !== 'bool').map((f) => f.name));
const COMMAND_BOOLS = new Set(COMMAND_BOOL_FLAGS);

function rewriteBool(name: string, value: string): string[] {
  const b = parseGoBool(value);
  if (b === null)
    throw new CliError(`Error: invalid argument "${value}" for "--${name}" flag: expected true or false`);
  if (GLOBAL_BOOLS.has(name)) return [b ? `--${name}` : `--no-${name}`];
  // `--no-legend=false` means "show the legend": the flag is simply not given.
  return b ? [`--${name}`] : [];
}

/** Resolves a possibly abbreviated command name; throws fleet's unknown-command error otherwise. */
export function matchCommand(word: string, commands: readonly string[]): string {
  if (commands.includes(word)) return word;
  const candidates = commands.filter((c) => c.startsWith(word)).sort();
  if (candidates.length === 1) return candidates[0] as string;
  const hint = candidates.length > 1 ? ` (did you mean ${candidates.join(', ')}?)` : '';
  throw new CliError(
    `Error: unknown command "${word}" for "fleetctl"${hint}. Run 'fleetctl help' for usage.`,
  );
}

export function normalizeArgv(argv: readonly string[], commands: readonly string[]): string[] {
  const out: string[] = [];
  let commandSeen = false;
  let expectValue = false;
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i] as string;
    if (tok === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (expectValue) {
      out.push(tok);
      expectValue = false;
      continue;
    }
    if (tok.startsWith('--')) {
      const eq = tok.indexOf('=');
      const name = eq === -1 ? tok.slice(2) : tok.slice(2, eq);
      const value = eq === -1 ? undefined : tok.slice(eq + 1);
      const long = Object.hasOwn(ONE_LETTER, name) ? ONE_LETTER[name] : undefined;
      if (long !== undefined) {
        if (value === undefined) out.push(`-${name}`);
        else if (long === 'lines') out.push('--lines', value);
        else out.push(...rewriteBool(long, value));
        continue;
      }
      if (value !== undefined && (GLOBAL_BOOLS.has(name) || COMMAND_BOOLS.has(name))) {
        out.push(...rewriteBool(name, value));
        continue;
      }
      if (!commandSeen && value === undefined && GLOBAL_VALUE_FLAGS.has(name)) expectValue = true;
      out.push(tok);
      continue;
    }
    if (tok.startsWith('-') && tok.length > 1) {
      out.push(tok);
      continue;
    }
    if (!commandSeen) {
      commandSeen = true;
      out.push(matchCommand(tok, commands));
      continue;
    }
    out.push(tok);
  }
  return out;
}
