// The listing a client pages through. fleet read the whole collection again for every page, so paging
// through N units cost N/token_limit full reads and a write between two pages could shift items from
// one page to the next (an item shown twice, another never). Here a first page (no token) always
// reads fresh and its listing is kept; the pages after it are cut from that same listing while it is
// young. One listing per endpoint: memory stays bounded however many clients page.

export interface ListingCacheOptions {
  /** How long a listing serves later pages (ms). */
  readonly maxAgeMs: number;
  readonly now?: () => number;
}

export interface ListingCache<T> {
  /**
   * The listing a page is cut from. `query` names what was listed (e.g. the filter): a later page
   * is only served from a listing of the same query. A first page (`firstPage`), a different query
   * or a listing older than `maxAgeMs` means a fresh `read()`, which then serves the pages after it.
   */
  get(query: string, firstPage: boolean, read: () => Promise<readonly T[]>): Promise<readonly T[]>;
  /** Forget the listing (e.g. the registry was swapped). */
  clear(): void;
}

interface Listing<T> {
  readonly query: string;
  /** When the read began: the listing is at least as new as this. */
  readonly readAt: number;
  readonly items: readonly T[];
}

export function createListingCache<T>(opts: ListingCacheOptions): ListingCache<T> {
  const now = opts.now ?? Date.now;
  let kept: Listing<T> | undefined;
  // Bumped by clear(): a read begun before it must not bring back a listing of the old registry.
  let generation = 0;

  return {
    async get(query, firstPage, read) {
      const t = now();
      if (!firstPage && kept !== undefined && kept.query === query && t - kept.readAt <= opts.maxAgeMs) {
        return kept.items;
      }
      const gen = generation;
      const items = await read();
      // Concurrent reads: the one begun last is the newest and is kept, whichever finishes last.
      if (gen === generation && (kept === undefined || t >= kept.readAt)) kept = { query, readAt: t, items };
      return items;
    },
    clear() {
      kept = undefined;
      generation++;
    },
  };
}
