// Unit-file parser with the semantics of go-systemd's `unit.Deserialize` as vendored by fleet 1.0,
// so that a file yields the same options (and therefore the same hash) as it did under fleet.
// Design notes: docs/architecture.md, "units/parse.ts".

import {
  BACKSLASH,
  CLOSE_BRACKET,
  CR,
  countByte,
  EQUALS,
  goTrimSpace,
  isGoSpace,
  LF,
  OPEN_BRACKET,
  runeAt,
  runeSize,
  utf8,
  utf8ByteLength,
  utf8Decoder,
} from './go-text.js';
import type { UnitOption } from './types.js';

/** systemd's LINE_MAX as go-systemd hard-codes it. */
export const UNIT_LINE_MAX = 2048;

/**
 * Largest unit file accepted, in UTF-8 bytes. fleet had no limit of its own (etcd's 1.5 MiB request
 * size was the effective one); real unit files are a few KiB, and a cap keeps every parse short.
 */
export const UNIT_FILE_MAX_BYTES = 512 * 1024;

/** A unit file that cannot be parsed; `line`/`column` are 1-based (column counts characters). */
export class UnitParseError extends Error {
  readonly line: number;
  readonly column: number;
  /** The message without the position prefix. */
  readonly detail: string;

  constructor(line: number, column: number, detail: string) {
    super(`line ${line}, column ${column}: ${detail}`);
    this.name = 'UnitParseError';
    this.line = line;
    this.column = column;
    this.detail = detail;
  }
}

type Step =
  | { readonly kind: 'preamble' }
  | { readonly kind: 'sectionName'; readonly bracketAt: number }
  | { readonly kind: 'sectionSuffix'; readonly section: string }
  | { readonly kind: 'body'; readonly section: string }
  | { readonly kind: 'comment'; readonly resume: Step }
  | { readonly kind: 'optionName'; readonly section: string }
  | { readonly kind: 'optionValue'; readonly section: string; readonly name: string; readonly at: number };

/**
 * Parse a unit file into its options, in file order (repeated keys and sections are kept).
 * Throws only UnitParseError.
 */
export function parseUnitFile(text: string): UnitOption[] {
  return new Lexer(utf8.encode(text)).run();
}

/** A parsed file that can point at its options: `errorAt(i, detail)` is positioned at option i's name. */
export interface LocatedUnitFile {
  readonly options: UnitOption[];
  errorAt(index: number, detail: string): UnitParseError;
}

/** parseUnitFile, keeping where each option starts (for validation errors with a position). */
export function parseLocatedUnitFile(text: string): LocatedUnitFile {
  const lexer = new Lexer(utf8.encode(text));
  const options = lexer.run();
  return { options, errorAt: (index, detail) => lexer.error(lexer.optionStarts[index] ?? 0, detail) };
}

class Lexer {
  private pos = 0;
  private readonly out: UnitOption[] = [];
  /** Byte offset of each option's name, in `out` order. */
  readonly optionStarts: number[] = [];
  /** nextNewline[p]: first index >= p holding CR or LF (or the length), for O(1) line checks. */
  private readonly nextNewline: Uint32Array;

  constructor(private readonly bytes: Uint8Array) {
    const n = bytes.length;
    this.nextNewline = new Uint32Array(n + 1);
    this.nextNewline[n] = n;
    for (let i = n - 1; i >= 0; i--) {
      const b = bytes[i];
      this.nextNewline[i] = b === LF || b === CR ? i : (this.nextNewline[i + 1] ?? n);
    }
  }

  run(): UnitOption[] {
    if (this.bytes.length > UNIT_FILE_MAX_BYTES) {
      throw this.error(
        this.runeStart(UNIT_FILE_MAX_BYTES),
        `unit file is ${this.bytes.length} bytes, larger than the limit of ${UNIT_FILE_MAX_BYTES} bytes`,
      );
    }
    let step: Step | null = { kind: 'preamble' };
    while (step !== null) {
      this.checkLineLength();
      step = this.step(step);
    }
    return this.out;
  }

  private step(step: Step): Step | null {
    switch (step.kind) {
      case 'preamble':
        return this.preamble();
      case 'sectionName':
        return this.sectionName(step.bracketAt);
      case 'sectionSuffix':
        return this.sectionSuffix(step.section);
      case 'body':
        return this.body(step.section);
      case 'comment':
        return this.comment(step.resume);
      case 'optionName':
        return this.optionName(step.section);
      case 'optionValue':
        return this.optionValue(step.section, step.name, step.at);
    }
  }

  /**
   * go-systemd refuses a line of 2048+ bytes, checked before every lexer step when its reader has
   * 2048+ bytes buffered. The reader is empty before the first step, so position 0 is never checked.
   */
  private checkLineLength(): void {
    const p = this.pos;
    const n = this.bytes.length;
    if (p === 0 || n - p < UNIT_LINE_MAX) return;
    if ((this.nextNewline[p] ?? n) - p >= UNIT_LINE_MAX) {
      throw this.error(p, `line too long (max ${UNIT_LINE_MAX} bytes)`);
    }
  }

  /** Before the first section: everything but `[` and comments is ignored, one character per step. */
  private preamble(): Step | null {
    if (this.pos >= this.bytes.length) return null;
    const at = this.pos;
    const b = this.bytes[at] ?? 0;
    this.pos += runeSize(b);
    if (b === OPEN_BRACKET) return { kind: 'sectionName', bracketAt: at };
    if (isCommentByte(b)) return { kind: 'comment', resume: { kind: 'preamble' } };
    return { kind: 'preamble' };
  }

  /** Section name: everything up to the first `]` (newlines included, as in go-systemd). */
  private sectionName(bracketAt: number): Step {
    const end = this.bytes.indexOf(CLOSE_BRACKET, this.pos);
    if (end === -1) {
      throw this.error(bracketAt, 'unable to find end of section: missing "]"');
    }
    const section = this.decode(this.pos, end);
    this.pos = end + 1;
    return { kind: 'sectionSuffix', section };
  }

  /** Only whitespace may follow `]` on its line. */
  private sectionSuffix(section: string): Step {
    const start = this.pos;
    const { line } = this.toEOL();
    const text = utf8Decoder.decode(line);
    const trimmed = goTrimSpace(text);
    if (trimmed.length > 0) {
      // Point at the first non-space character of the garbage.
      let lead = 0;
      while (isGoSpace(text.charCodeAt(lead))) lead++;
      const offset = start + utf8.encode(text.slice(0, lead)).length;
      throw this.error(
        offset,
        `garbage after section header [${quoteShort(section)}]: "${quoteShort(trimmed)}"`,
      );
    }
    return { kind: 'body', section };
  }

  /** Between options: skip whitespace (one character per step), then a section, comment or option. */
  private body(section: string): Step | null {
    if (this.pos >= this.bytes.length) return null;
    const at = this.pos;
    const b = this.bytes[at] ?? 0;
    const cp = runeAt(this.bytes, at);
    this.pos += runeSize(b);
    if (isGoSpace(cp)) return { kind: 'body', section };
    if (b === OPEN_BRACKET) return { kind: 'sectionName', bracketAt: at };
    if (isCommentByte(b)) return { kind: 'comment', resume: { kind: 'body', section } };
    this.pos = at; // unread: the character starts an option name
    return { kind: 'optionName', section };
  }

  /** A comment runs to the end of the line, and on while a line ends in `\` (one space allowed after it). */
  private comment(resume: Step): Step {
    for (;;) {
      let { line } = this.toEOL();
      if (line.length > 0 && line[line.length - 1] === 0x20) line = line.subarray(0, line.length - 1);
      if (line.length === 0 || line[line.length - 1] !== BACKSLASH) return resume;
    }
  }

  /** Option name: everything up to `=` on the same line, trimmed. */
  private optionName(section: string): Step {
    const start = this.pos;
    const n = this.bytes.length;
    let i = start;
    while (i < n) {
      const b = this.bytes[i];
      if (b === LF || b === CR) {
        const name = goTrimSpace(this.decode(start, i));
        throw this.error(i, `missing "=" after option name "${quoteShort(name)}"`);
      }
      if (b === EQUALS) break;
      i++;
    }
    if (i >= n) {
      const name = goTrimSpace(this.decode(start, n));
      throw this.error(n, `missing "=" after option name "${quoteShort(name)}" at end of file`);
    }
    const name = goTrimSpace(this.decode(start, i));
    this.pos = i + 1;
    return { kind: 'optionValue', section, name, at: start };
  }

  /**
   * Option value: the rest of the line; a line ending in `\` continues the value on the next line,
   * keeping the backslash and the newline. A blank line ends the value.
   */
  private optionValue(section: string, name: string, nameAt: number): Step {
    // Continuation lines are read here in a loop over offsets: building a new list of parts per line
    // made a value of N continuation lines cost O(N²) (10k lines took 10 s and froze fleetd). Kept
    // lines are contiguous in the input (each continuation's newline is the LF that ended it), so the
    // value is one slice, plus a newline when the last kept line continues at end of file.
    const valueStart = this.pos;
    let valueEnd = valueStart;
    let continues = false;
    let lineStart = this.pos;
    let lineEnd = this.pos;
    for (;;) {
      lineStart = this.pos;
      lineEnd = this.lineEnd();
      if (this.isBlank(lineStart, lineEnd)) break;
      valueEnd = lineEnd;
      continues = this.bytes[lineEnd - 1] === BACKSLASH;
      if (!continues) break;
      // go-systemd checks the line length between lexer steps; each continuation line is a step.
      this.checkLineLength();
    }
    const kept = this.decode(valueStart, valueEnd);
    // Departure 1: the newline is kept even at end of file (go-systemd dropped it there).
    const raw = continues ? `${kept}\n` : kept;
    const value = raw.endsWith('\n') ? `${goTrimSpace(raw)}\n` : goTrimSpace(raw);
    if (value.endsWith('\\')) {
      // Departure 2 (docs/architecture.md, "units/parse.ts"). Only reachable when this line was kept (a blank line
      // leaves a trailing newline), so the offending backslash is the last one on this line.
      const backslashAt = this.bytes.lastIndexOf(BACKSLASH, lineEnd - 1);
      throw this.error(
        backslashAt,
        `value of "${quoteShort(name)}" ends in "\\" followed by whitespace; ` +
          'remove the whitespace to continue the line, or the "\\" to end it',
      );
    }
    // Departure 3: the option must serialize to lines go-systemd accepts. The byte-position check
    // above can miss a long line whose length hides behind a CR that trimming then removes
    // ("A=\rxxx…"); the stored form would then be refused when read back.
    // CR counts as a line end here as in the check above (a CR inside a value is accepted).
    // Scanned by index, not split: a value of 100k lines would allocate 100k strings.
    const full = `${name}=${value}`;
    for (let start = 0, i = 0; i <= full.length; i++) {
      const c = i < full.length ? full.charCodeAt(i) : LF;
      if (c !== LF && c !== CR) continue;
      // A UTF-16 unit is at most 3 UTF-8 bytes: short lines need no byte count.
      if ((i - start) * 3 >= UNIT_LINE_MAX && utf8ByteLength(full.slice(start, i)) >= UNIT_LINE_MAX) {
        throw this.error(lineStart, `line too long (max ${UNIT_LINE_MAX} bytes)`);
      }
      start = i + 1;
    }
    this.out.push({ section, name, value });
    this.optionStarts.push(nameAt);
    return { kind: 'body', section };
  }

  /** toEOL without the copy: moves past the line and returns where its text ends. */
  private lineEnd(): number {
    const n = this.bytes.length;
    const lf = this.bytes.indexOf(LF, this.pos);
    if (lf === -1) {
      let end = n;
      if (end > this.pos && this.bytes[end - 1] === CR) end--;
      this.pos = n;
      return end;
    }
    this.pos = lf + 1;
    return lf;
  }

  private isBlank(from: number, to: number): boolean {
    // Fast path: any printable ASCII byte means not blank (decoding every line dominated long values).
    for (let i = from; i < to; i++) {
      const b = this.bytes[i] ?? 0;
      if (b < 0x80 && b !== 0x20 && (b < 0x09 || b > 0x0d)) return false;
    }
    return goTrimSpace(this.decode(from, to)).length === 0;
  }

  /** Read to the end of the line. Like go-systemd, a CR is stripped only when the file ends without LF. */
  private toEOL(): { line: Uint8Array; eof: boolean } {
    const n = this.bytes.length;
    const lf = this.bytes.indexOf(LF, this.pos);
    if (lf === -1) {
      let end = n;
      if (end > this.pos && this.bytes[end - 1] === CR) end--;
      const line = this.bytes.subarray(this.pos, end);
      this.pos = n;
      return { line, eof: true };
    }
    const line = this.bytes.subarray(this.pos, lf);
    this.pos = lf + 1;
    return { line, eof: false };
  }

  /** The start of the character holding byte `offset` (so an error column counts whole characters). */
  private runeStart(offset: number): number {
    let at = offset;
    while (at > 0 && ((this.bytes[at] ?? 0) & 0xc0) === 0x80) at--;
    return at;
  }

  private decode(from: number, to: number): string {
    return utf8Decoder.decode(this.bytes.subarray(from, to));
  }

  error(offset: number, detail: string): UnitParseError {
    const lineStart = offset === 0 ? 0 : this.bytes.lastIndexOf(LF, offset - 1) + 1;
    const lineNo = countByte(this.bytes, LF, 0, lineStart) + 1;
    const column = [...utf8Decoder.decode(this.bytes.subarray(lineStart, offset))].length + 1;
    return new UnitParseError(lineNo, column, detail);
  }
}

/** Text for an error message: one line (control characters escaped), at most 60 characters. */
function quoteShort(s: string): string {
  const clipped = [...s].length > 60 ? `${[...s].slice(0, 57).join('')}...` : s;
  return JSON.stringify(clipped).slice(1, -1);
}

function isCommentByte(b: number): boolean {
  return b === 0x23 /* # */ || b === 0x3b /* ; */;
}
