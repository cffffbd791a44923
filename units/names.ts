// Unit names: fleetctl's argument mangling, fleet's API name validation, and name parts
// (prefix / instance / template) as fleet's `unit.NewUnitNameInfo` computes them.

/** Types fleetctl accepts as-is; any other argument gets `.service` appended (so `foo.target` too). */
export const RECOGNIZED_UNIT_TYPES: readonly string[] = [
  '.service',
  '.socket',
  '.timer',
  '.path',
  '.device',
  '.mount',
  '.automount',
];

/** Go's path.Base: the last element of a slash-separated path. */
function pathBase(p: string): string {
  if (p === '') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** fleetctl's unitNameMangle: `path.Base(arg)`, plus `.service` unless the type is recognized. */
export function mangleUnitName(arg: string): string {
  const base = pathBase(arg);
  return RECOGNIZED_UNIT_TYPES.some((t) => base.endsWith(t)) ? base : `${base}.service`;
}

const UNIT_NAME_MAX = 256;
const VALID_UNIT_TYPES = new Set([
  'automount',
  'busname',
  'device',
  'mount',
  'path',
  'scope',
  'service',
  'slice',
  'snapshot',
  'socket',
  'swap',
  'target',
  'timer',
]);
const VALID_TEMPLATE_TYPES = new Set(['path', 'service', 'socket', 'target', 'timer']);
const VALID_NAME_CHAR = /^[A-Za-z0-9:\-_.\\@]$/u;

/**
 * The one unit name rule of fleet-ts (API, registry, fleetctl, watch, agent, systemd driver): fleet's
 * api.ValidateName, the message of the first problem, or null when the name is valid.
 * On top of fleet's rules (which already refuse `/` and control characters before the last dot),
 * names containing `..`, `/`, NUL or control characters anywhere are refused, because the name
 * becomes a file name on every machine, and so are names starting with `.`: systemd refuses
 * `.service` (its unit_name_is_valid wants a prefix before the last dot, fleet's rule does not), a
 * `.foo.service` file would be hidden in the units directory, where the agent's own half-written
 * files are `.<name>.tmp-*`.
 */
export function validateUnitName(name: string): string | null {
  const length = new TextEncoder().encode(name).length;
  if (length === 0) return 'unit name cannot be empty';
  if (length > UNIT_NAME_MAX) return `unit name exceeds maximum length (${UNIT_NAME_MAX})`;
  const dot = name.lastIndexOf('.');
  if (dot === -1) return 'unit name must contain "."';
  if (dot === name.length - 1) return 'unit name cannot end in "."';
  const suffix = name.slice(dot + 1);
  if (!VALID_UNIT_TYPES.has(suffix)) return `invalid unit type: ${goQuote(suffix)}`;
  if (name.includes('@') && !VALID_TEMPLATE_TYPES.has(suffix)) {
    return `invalid unit type for template: ${goQuote(suffix)}`;
  }
  for (const ch of name.slice(0, dot)) {
    if (!VALID_NAME_CHAR.test(ch)) return `invalid character ${goQuoteRune(ch)} in unit name`;
  }
  if (name.startsWith('@')) return 'unit name cannot start in "@"';
  // Our additions: fleet accepts `.service` and `foo..service`; `/` and control characters are
  // already refused above, but the name becomes a file path on every machine, so say it once more.
  if (name.startsWith('.')) return 'unit name cannot start with "."';
  if (name.includes('..')) return 'unit name cannot contain ".."';
  if (name.includes('/') || /[\u0000-\u001f\u007f]/u.test(name)) {
    return 'unit name cannot contain "/" or control characters';
  }
  return null;
}

/** Parts of a unit name. `type` is the suffix without the dot (`service`). */
export interface UnitNameInfo {
  /** Name without the type suffix: `foo@bar`. */
  name: string;
  /** Before the first `@` (or the whole name without suffix): `foo`. */
  prefix: string;
  /** After the first `@`, before the last `.`: `bar` (empty for templates and plain units). */
  instance: string;
  /** `${prefix}@.${type}`, set when the name contains `@`. */
  template?: string;
  type: string;
  isTemplate: boolean;
  isInstance: boolean;
}

/** fleet's NewUnitNameInfo. A name without `.` is all `name`/`prefix`, with an empty type. */
export function parseUnitName(fullName: string): UnitNameInfo {
  const dot = fullName.lastIndexOf('.');
  const name = dot === -1 ? fullName : fullName.slice(0, dot);
  const type = dot === -1 ? '' : fullName.slice(dot + 1);
  const at = name.indexOf('@');
  if (at === -1) {
    return { name, prefix: name, instance: '', type, isTemplate: false, isInstance: false };
  }
  const prefix = name.slice(0, at);
  const instance = name.slice(at + 1);
  return {
    name,
    prefix,
    instance,
    template: `${prefix}@.${type}`,
    type,
    isTemplate: instance === '',
    isInstance: instance !== '',
  };
}

/** Go's %q for a string (ASCII-only escaping is enough for unit types). */
function goQuote(s: string): string {
  return `"${[...s].map((ch) => escapeRune(ch, '"')).join('')}"`;
}

/** Go's %q for a rune: `'x'`, `'\n'`, `'\x00'`, `'\u00ad'`. */
function goQuoteRune(ch: string): string {
  return `'${escapeRune(ch, "'")}'`;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\u0007': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\\': '\\\\',
};

function escapeRune(ch: string, quote: string): string {
  if (ch === quote) return `\\${quote}`;
  const simple = SIMPLE_ESCAPES[ch];
  if (simple !== undefined) return simple;
  const cp = ch.codePointAt(0) ?? 0;
  // Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
  if (ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch)) return ch;
  if (cp < 0x80) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}

/**
 * Machine IDs become registry keys (`machines/<id>/...`): a letter or digit, then letters, digits,
 * `.`, `_`, `-`, never `..`. Returns the problem, or null when the ID is valid.
 */
export function validateMachineID(id: string): string | null {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id) || id.includes('..'))
    return `invalid machine ID ${JSON.stringify(id)}`;
  return null;
}
