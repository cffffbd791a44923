// Small helpers every layer uses for errors and ordering.

/** The message of a thrown value, for one-line logs and errors. */
export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
