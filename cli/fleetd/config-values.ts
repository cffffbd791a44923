// Pure parsers for fleetd configuration values, each reproducing what fleet's Go code accepted
// (time.ParseDuration, strconv.ParseBool, pkg.StringSlice, config.Metadata, goini), so a fleet.conf
// that worked with fleet means the same here. Each parser throws ValueError carrying what was
// expected; config.ts adds the key and the source to make the user-facing message.

/** A value that does not parse; `expected` completes the sentence "expected ...". */
export class ValueError extends Error {
  constructor(readonly expected: string) {
    super(`expected ${expected}`);
    this.name = 'ValueError';
  }
}

const TRUE_SPELLINGS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_SPELLINGS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go strconv.ParseBool: exactly these twelve spellings, nothing else (not `yes`, not `on`). */
export function parseGoBool(raw: string): boolean {
  if (TRUE_SPELLINGS.has(raw)) return true;
  if (FALSE_SPELLINGS.has(raw)) return false;
  throw new ValueError('true or false (also 1, t, T, TRUE, True, 0, f, F, FALSE, False)');
}

// Milliseconds per unit of Go's time.ParseDuration.
const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 micro sign
  μs: 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const DURATION_TERM = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Go time.ParseDuration, in milliseconds: a sequence of decimal numbers with units (`30s`, `1m30s`,
 * `1.5h`, `500ms`), optionally signed; `0` alone is allowed. A bare number such as `30` is rejected,
 * as fleet rejected it.
 */
export function parseGoDurationMs(raw: string): number {
  const bad = (): never => {
    throw new ValueError('a duration like 30s, 1m30s or 500ms');
  };
  let s = raw;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') bad();
  let total = 0;
  DURATION_TERM.lastIndex = 0;
  while (DURATION_TERM.lastIndex < s.length) {
    const m = DURATION_TERM.exec(s);
    if (!m) bad();
    const [, num, unit] = m as RegExpExecArray;
    total += Number(num) * (DURATION_UNITS_MS[unit as string] as number);
  }
  return sign * total;
}

/** Go strconv.ParseInt on decimal input (an optional sign and digits). */
export function parseGoInt(raw: string): number {
  if (!/^[+-]?\d+$/.test(raw)) throw new ValueError('a whole number');
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new ValueError('a whole number');
  return n;
}

/** Go strconv.ParseFloat on ordinary decimal input (`1`, `1.5`, `.5`, `2e-1`); no Inf/NaN. */
export function parseGoFloat(raw: string): number {
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(raw)) throw new ValueError('a number');
  return Number(raw);
}

/**
 * fleet's pkg.StringSlice: split on `,` and strip spaces, `[` and `"` from the left and spaces, `"`
 * and `]` from the right of each item, so both `a,b` and `["a", "b"]` give [a, b]. Empty items
 * (a trailing comma) are dropped here, where fleet kept them and failed later at connect time.
 */
export function parseStringSlice(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.replace(/^[ ["]+/, '').replace(/[ "\]]+$/, ''))
    .filter((item) => item !== '');
}

/** etcd_servers: a StringSlice whose every item is an http(s) URL with a host. */
export function parseEtcdServers(raw: string): string[] {
  const expected = 'a comma-separated list of etcd URLs like http://127.0.0.1:2379';
  const servers = parseStringSlice(raw);
  if (servers.length === 0) throw new ValueError(expected);
  for (const server of servers) {
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new ValueError(expected);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
      throw new ValueError(expected);
    }
  }
  return servers;
}

/** Removes one pair of matching surrounding quotes, as fleet's INI reader did for file values. */
export function stripQuotes(raw: string): string {
  if (raw.length >= 2) {
    const first = raw[0];
    if ((first === '"' || first === "'") && raw[raw.length - 1] === first) return raw.slice(1, -1);
  }
  return raw;
}

/**
 * fleet's config.Metadata: `k=v,k2=v2`, each pair SplitN on the first `=`, key and value trimmed,
 * the last duplicate wins. Pairs without `=` (or with an empty key) are skipped with a warning;
 * fleet skipped them silently.
 */
export function parseMetadata(raw: string): { metadata: Record<string, string>; skipped: string[] } {
  const pairs = new Map<string, string>();
  const skipped: string[] = [];
  const text = stripQuotes(raw.trim());
  if (text.trim() === '') return { metadata: {}, skipped };
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : pair.slice(0, eq).trim();
    if (key === '') {
      if (pair.trim() !== '') skipped.push(pair.trim());
      continue;
    }
    pairs.set(key, pair.slice(eq + 1).trim());
  }
  // fromEntries defines own properties, so a key such as `__proto__` stays plain data.
  return { metadata: Object.fromEntries(pairs), skipped };
}

/**
 * The etcd key prefix as a directory: leading and trailing `/` ensured. fleet joined keys with
 * path.Join, so `/x` and `/x/` meant the same; our etcd client is namespaced by plain string
 * prefix, where `/x` would also match `/xy/...`. fleetctl must normalise the same way.
 */
export function normalizeKeyPrefix(raw: string): string {
  let p = raw.trim();
  if (!p.startsWith('/')) p = `/${p}`;
  if (!p.endsWith('/')) p = `${p}/`;
  return p;
}

/** One `key=value` of a fleet.conf, with where it was written. */
export interface ConfFileEntry {
  /** Section name, lower-cased; '' for the global part before any section header. */
  readonly section: string;
  /** Lower-cased key, as fleet's INI reader stored it. */
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

/** A fleet.conf line that is neither a comment, a section nor `key=value`. */
export class ConfSyntaxError extends Error {
  constructor(readonly line: number) {
    super(`syntax error at line ${line}: expected key=value, [section] or a # comment`);
    this.name = 'ConfSyntaxError';
  }
}

// The three value forms of fleet's INI reader (goini): "double quoted", 'single quoted', and bare
// (which ends at the first # or ;), plus a key with an empty value.
const DOUBLE_QUOTED = /^([^= \t]+)[ \t]*=[ \t]*"([^"]*)"$/;
const SINGLE_QUOTED = /^([^= \t]+)[ \t]*=[ \t]*'([^']*)'$/;
const BARE = /^([^= \t]+)[ \t]*=[ \t]*([^#;]+)/;
const EMPTY = /^([^= \t]+)[ \t]*=[ \t]*(?:[#;].*)?$/;

/**
 * Parses a fleet.conf the way fleet's INI reader (goini) did: lines trimmed, `#`/`;` comment lines,
 * `[section]` headers, a trailing `\` joins the next line, keys lower-cased. Throws ConfSyntaxError.
 */
export function parseConfFile(text: string): ConfFileEntry[] {
  const lines = text.split(/\r?\n/);
  const entries: ConfFileEntry[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = (lines[i] as string).trim();
    if (line === '') continue;
    while (line.endsWith('\\')) {
      i++;
      if (i >= lines.length) throw new ConfSyntaxError(lineNo);
      line = line.slice(0, -1) + (lines[i] as string).trim();
    }
    if (line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[') && line.endsWith(']')) {
      section = line.slice(1, -1).trim().toLowerCase();
      continue;
    }
    const quoted = DOUBLE_QUOTED.exec(line) ?? SINGLE_QUOTED.exec(line);
    const bare = quoted ? null : BARE.exec(line);
    const empty = quoted || bare ? null : EMPTY.exec(line);
    const m = quoted ?? bare ?? empty;
    if (!m) throw new ConfSyntaxError(lineNo);
    let value = '';
    if (quoted) value = quoted[2] as string;
    else if (bare) value = (bare[2] as string).trim();
    entries.push({ section, key: (m[1] as string).toLowerCase(), value, line: lineNo });
  }
  return entries;
}
