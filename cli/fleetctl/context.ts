// What every command receives: IO, parsed global flags, the unit model and a lazily opened client
// (commands such as `version` or `help` never connect).
import type { DesiredState, UnitOption } from '../../units/types.js';
import type { FleetClient } from './client.js';
import type { CliIO, Printer } from './io.js';
import type { GlobalOptions } from './options.js';

/** The unit-file operations fleetctl needs (implemented over units/* in ./unit-model.ts). */
export interface UnitModel {
  /** fleet's unitNameMangle: path.Base, then `.service` unless the type is one of the 7 known ones. */
  mangle(arg: string): string;
  /** fleet's maybeAppendDefaultUnitType on the argument path (the file to read). */
  withDefaultType(arg: string): string;
  /** Parses a unit file; throws an Error whose message names the file and line. */
  parse(text: string, fileName: string): UnitOption[];
  hash(options: readonly UnitOption[]): string;
  serialize(options: readonly UnitOption[]): string;
  /** fleet's api.ValidateName; returns the error message or null. */
  validateName(name: string): string | null;
  /** fleet's api.ValidateOptions; returns the error message or null. */
  validateOptions(options: readonly UnitOption[]): string | null;
  unknownXFleetKeys(options: readonly UnitOption[]): string[];
  /** `foo@bar.service` -> `foo@.service`; null when the name is not an instance. */
  templateOf(name: string): string | null;
  isTemplate(name: string): boolean;
}

export interface CommandContext {
  readonly io: CliIO;
  readonly print: Printer;
  readonly globals: GlobalOptions;
  readonly model: UnitModel;
  client(): Promise<FleetClient>;
}

export type CreatingCommand = 'submit' | 'load' | 'start' | 'restart';

/** fleet's checkReplaceUnitState: the desired states in which `--replace` may re-create a unit. */
export const REPLACE_ALLOWED: Readonly<Record<CreatingCommand, readonly DesiredState[]>> = {
  submit: ['inactive'],
  load: ['inactive', 'loaded'],
  start: ['inactive', 'loaded', 'launched'],
  restart: [],
};
