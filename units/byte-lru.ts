// A least-recently-used map of strings bounded by their total size. Unit contents were cached per
// process for ever: replacing one 170 KB unit 300 times took fleetd's heap from 13 to 68 MiB.

/** Default bound of a content cache: a few thousand typical units, a hundred of the largest. */
export const DEFAULT_CONTENT_CACHE_BYTES = 32 * 1024 * 1024;

export class ByteLru {
  private readonly entries = new Map<string, string>();
  private total = 0;

  constructor(private readonly maxBytes: number = DEFAULT_CONTENT_CACHE_BYTES) {}

  /** Approximate bytes held (UTF-16: two per character). */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): string | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    // Map iteration order is insertion order: re-inserting makes this the most recently used.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: string): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.total -= cost(key, old);
      this.entries.delete(key);
    }
    // A value larger than the whole cache is not kept (it would evict everything else).
    if (cost(key, value) > this.maxBytes) return;
    this.entries.set(key, value);
    this.total += cost(key, value);
    for (const [k, v] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(k);
      this.total -= cost(k, v);
    }
  }
}

function cost(key: string, value: string): number {
  return 2 * (key.length + value.length);
}
