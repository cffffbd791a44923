// fleet's unit creation algorithm (fleetctl's lazyCreateUnits / checkUnitCreation / getUnitFile): used by
// submit, load, start and restart before they change desired states.
import { dirname, join, resolve } from 'node:path';
import { errorMessage } from '../../units/common.js';
import type { UnitOption, UnitSpec } from '../../units/types.js';
import { type CommandContext, type CreatingCommand, REPLACE_ALLOWED } from './context.js';
import { writeInOrder } from './in-order.js';
import { CliError } from './io.js';
import { type UnitLookup, unitLookup } from './unit-lookup.js';
import { waitForUnitStates } from './wait.js';

/**
 * Rejects invalid names (validateUnitName: also those that could escape a directory or another
 * registry key) before anything is read or written.
 */
export function assertSafeUnitName(ctx: CommandContext, name: string): void {
  const bad = ctx.model.validateName(name);
  if (bad) throw new CliError(`Error: invalid unit name "${name}": ${bad}`);
}

/** Unit files parsed in this command, by full path: `start` of 300 instances parses their template once. */
const parsedFiles = new WeakMap<CommandContext, Map<string, UnitOption[] | null>>();

function readUnitFile(ctx: CommandContext, path: string): UnitOption[] | null {
  const full = resolve(ctx.io.cwd, path);
  const cache = parsedFiles.get(ctx) ?? new Map<string, UnitOption[] | null>();
  parsedFiles.set(ctx, cache);
  const cached = cache.get(full);
  if (cached !== undefined) return cached && [...cached];
  let text: string | null;
  try {
    text = ctx.io.readLocalFile(full);
  } catch (err) {
    throw new CliError(`Error creating units: cannot read ${path}: ${errorMessage(err)}`);
  }
  let options: UnitOption[] | null = null;
  if (text !== null) {
    try {
      options = ctx.model.parse(text, path);
    } catch (err) {
      throw new CliError(`Error creating units: ${errorMessage(err)}`);
    }
  }
  cache.set(full, options);
  return options && [...options];
}

/** The local file (or, for an instance, the local template) to compare a registry unit with. */
function localCounterpart(
  ctx: CommandContext,
  argPath: string,
  name: string,
): { path: string; options: UnitOption[] } | null {
  const own = readUnitFile(ctx, argPath);
  if (own) return { path: argPath, options: own };
  const template = ctx.model.templateOf(name);
  if (!template) return null;
  const tpath = join(dirname(argPath), template);
  const opts = readUnitFile(ctx, tpath);
  return opts ? { path: tpath, options: opts } : null;
}

/** Where a new unit's contents come from: a local file at the argument's path, else for an instance its template. */
async function findUnitContents(
  ctx: CommandContext,
  units: UnitLookup,
  argPath: string,
  name: string,
): Promise<UnitOption[]> {
  const own = readUnitFile(ctx, argPath);
  if (own) return own;
  const template = ctx.model.templateOf(name);
  if (!template)
    throw new CliError(`Error creating units: unable to find Unit(${name}) in Registry or on filesystem`);
  const inRegistry = await units.get(template);
  if (inRegistry) return [...inRegistry.options];
  const local = readUnitFile(ctx, join(dirname(argPath), template));
  if (local) return local;
  throw new CliError(
    `Error creating units: unable to find template Unit(${template}) in Registry or on filesystem`,
  );
}

/**
 * Creates the units named by `args` that are not yet in the registry (or replaces them with
 * `--replace` when their contents differ), then waits for the new ones to report `inactive`.
 * Returns the mangled unit names, in argument order.
 */
export async function lazyCreateUnits(
  ctx: CommandContext,
  command: CreatingCommand,
  args: readonly string[],
  opts: { replace: boolean; attempts: number },
): Promise<string[]> {
  const client = await ctx.client();
  const lookup = unitLookup(client, args.length);
  const names: string[] = [];
  const created: string[] = [];
  // Writes are queued and sent WRITES_IN_FLIGHT at a time (see in-order.ts); a lookup of a name still
  // queued (a repeated argument, a template created by an earlier argument) sends the queue first.
  let queued: { spec: UnitSpec; replace: boolean }[] = [];
  const queuedNames = new Set<string>();
  const flush = async () => {
    const batch = queued;
    queued = [];
    queuedNames.clear();
    const done = (w: { spec: UnitSpec }, ok: boolean) => {
      lookup.changed(w.spec.name);
      if (ok) created.push(w.spec.name);
    };
    if (client.createUnits && batch.length > 1 && batch.every((w) => !w.replace)) {
      const results = await client.createUnits(batch.map((w) => w.spec));
      for (const [i, w] of batch.entries()) done(w, results[i] ?? false);
      return;
    }
    await writeInOrder(batch, (w) => client.createUnit(w.spec, { replace: w.replace }), done);
  };
  const units: UnitLookup = {
    get: async (name) => {
      if (queuedNames.has(name)) await flush();
      return lookup.get(name);
    },
    changed: lookup.changed,
  };
  try {
    for (const arg of args) {
      const argPath = ctx.model.withDefaultType(arg);
      const name = ctx.model.mangle(arg);
      assertSafeUnitName(ctx, name);
      names.push(name);

      const existing = await units.get(name);
      let replace = false;
      if (existing) {
        const local = localCounterpart(ctx, argPath, name);
        const differs = local !== null && ctx.model.hash(local.options) !== existing.hash;
        if (!opts.replace) {
          if (differs && local) {
            ctx.print.err(
              `WARNING: Unit ${name} in registry differs from local unit file ${local.path}. Add --replace to override.`,
            );
          }
          continue;
        }
        if (!local) {
          throw new CliError(
            `Error creating units: --replace given but no local unit file ${argPath} to replace Unit(${name}) with`,
          );
        }
        if (!differs) {
          ctx.print.out(`Found same Unit(${name}) in Registry, nothing to do`);
          continue;
        }
        if (!REPLACE_ALLOWED[command].includes(existing.desiredState)) {
          ctx.print.err(
            `Warning: can not replace Unit(${name}) in state '${existing.desiredState}', use the appropriate command`,
          );
          continue;
        }
        replace = true;
      }

      const options = replace
        ? (localCounterpart(ctx, argPath, name)?.options ?? [])
        : await findUnitContents(ctx, units, argPath, name);
      const invalid = ctx.model.validateOptions(options);
      if (invalid) throw new CliError(`Error creating units: ${invalid}`);
      for (const key of ctx.model.unknownXFleetKeys(options)) {
        ctx.print.err(`WARNING: Unit ${name}: unrecognized requirement in [X-Fleet] section: "${key}"`);
      }
      const spec = { name, hash: ctx.model.hash(options), options, desiredState: 'inactive' as const };
      queued.push({ spec, replace });
      queuedNames.add(name);
    }
  } catch (err) {
    // As fleet: the units before the failing argument are created (the argument's error is the one shown).
    await flush().catch(() => undefined);
    throw err;
  }
  await flush();

  const { errors } = await waitForUnitStates(
    { client, io: ctx.io, print: ctx.print },
    created,
    'inactive',
    opts.attempts,
  );
  if (errors.length > 0) {
    for (const e of errors) ctx.print.err(`Error waiting on unit creation: ${e}`);
    throw new CliError('Error creating units: One or more errors creating units');
  }
  return names;
}
