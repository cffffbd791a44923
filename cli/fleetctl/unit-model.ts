// Binds fleetctl's UnitModel (./context.ts) to the shared unit model in units/.
import { mangleUnitName, parseUnitName, RECOGNIZED_UNIT_TYPES, validateUnitName } from '../../units/names.js';
import { parseUnitFile, UnitParseError } from '../../units/parse.js';
import { serializeUnit, unitHash } from '../../units/serialize.js';
import type { UnitOption } from '../../units/types.js';
import { parseRequirements, validateOptions } from '../../units/xfleet.js';
import type { UnitModel } from './context.js';

export const unitModel: UnitModel = {
  mangle: mangleUnitName,
  withDefaultType: (arg) => (RECOGNIZED_UNIT_TYPES.some((t) => arg.endsWith(t)) ? arg : `${arg}.service`),
  parse(text: string, fileName: string): UnitOption[] {
    try {
      return parseUnitFile(text);
    } catch (err) {
      if (err instanceof UnitParseError) {
        throw new Error(`cannot parse unit file ${fileName}: line ${err.line}: ${err.detail}`);
      }
      throw err;
    }
  },
  hash: unitHash,
  serialize: serializeUnit,
  validateName: validateUnitName,
  validateOptions: (options) => validateOptions(options),
  unknownXFleetKeys: (options) => [...parseRequirements(options).unknownKeys],
  templateOf(name: string): string | null {
    const info = parseUnitName(name);
    return info.isInstance && info.template ? info.template : null;
  },
  isTemplate: (name) => parseUnitName(name).isTemplate,
};
