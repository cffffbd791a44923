// Emulation of Go's text/tabwriter as fleetctl configures it: Init(w, minwidth 0, tabwidth 8, padding 1,
// padchar '\t', flags 0). Scripts that parse fleetctl output split on TABs, so the padding must be TABs
// in exactly the places Go puts them, not spaces.
// Design notes: docs/architecture.md, "cli/fleetctl/tabwriter.ts".

export interface TabwriterOptions {
  readonly minwidth: number;
  readonly tabwidth: number;
  readonly padding: number;
}

export const FLEETCTL_TABWRITER: TabwriterOptions = { minwidth: 0, tabwidth: 8, padding: 1 };

/**
 * Width of a cell as Go counts it: in runes (code points), not UTF-16 units or bytes. Counted by char
 * codes (a surrogate pair is one) rather than by iterating the string: list-units at 10k measures cells
 * 40k times in a process too short-lived for the iterator to be optimised.
 */
function runeWidth(text: string): number {
  let n = text.length;
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) {
      const prev = text.charCodeAt(i - 1);
      if (prev >= 0xd800 && prev <= 0xdbff) n--;
    }
  }
  return n;
}

/**
 * Formats `text` (lines of TAB-separated cells, as fleetctl writes them into its tabwriter) and returns
 * the aligned output. A trailing newline is kept; a final partial line is flushed like Go's Flush does.
 */
export function tabwrite(text: string, opts: TabwriterOptions = FLEETCTL_TABWRITER): string {
  if (text === '') return '';
  const endsWithNewline = text.endsWith('\n');
  const rawLines = (endsWithNewline ? text.slice(0, -1) : text).split('\n');
  const lines = rawLines.map((l) => l.split('\t'));
  const out: string[] = [];
  const widths: number[] = [];

  const pad = (textw: number, cellw: number): string => {
    if (opts.tabwidth === 0) return '';
    const rounded = Math.ceil(cellw / opts.tabwidth) * opts.tabwidth;
    return '\t'.repeat(Math.ceil((rounded - textw) / opts.tabwidth));
  };

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const cells = lines[i] ?? [];
      let s = '';
      for (let j = 0; j < cells.length; j++) {
        const cell = cells[j] ?? '';
        s += cell;
        // Only tab-terminated cells (all but the last) are padded to their column width.
        if (j < cells.length - 1 && j < widths.length) s += pad(runeWidth(cell), widths[j] ?? 0);
      }
      out.push(s);
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let start = line0;
    for (let i = line0; i < line1; i++) {
      if (column >= (lines[i]?.length ?? 0) - 1) continue;
      // A block of lines with a cell in this column begins here.
      writeLines(start, i);
      start = i;
      let width = opts.minwidth;
      for (; i < line1; i++) {
        const cells = lines[i] ?? [];
        if (column >= cells.length - 1) break;
        width = Math.max(width, runeWidth(cells[column] ?? '') + opts.padding);
      }
      widths.push(width);
      format(start, i);
      widths.pop();
      start = i;
      i--; // the outer loop's i++ must revisit the line that ended the block
    }
    writeLines(start, line1);
  };

  format(0, lines.length);
  return out.join('\n') + (endsWithNewline ? '\n' : '');
}

/** Joins rows of cells with TABs and aligns them as fleetctl does. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  return tabwrite(rows.map((r) => r.join('\t')).join('\n') + '\n');
}
