// Small helpers every layer uses: error messages and string ordering.

/** The message of a thrown value, for one-line logs and errors. */
export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The first line of that message, for errors that must stay on one line. */
export const errorLine = (err: unknown): string => errorMessage(err).split('\n')[0] ?? '';

/** Code-unit order (Go's string order: what fleet sorted by), not the locale's. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
