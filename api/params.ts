// Path and query parameters of API requests, checked the way fleet's server checked them.

import { ApiError, goQuote } from './http.js';
import { decodePageToken, type PageToken, PageTokenError } from './page-token.js';

/**
 * The unit name of an item path. A name that would address another key or file (`/`, `..`,
 * control characters, also when percent-encoded) is a 400 whatever the method.
 */
export function itemName(raw: string): string {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    throw new ApiError(400, `invalid URL escape in unit name ${goQuote(raw)}`);
  }
  if (name.includes('/') || name.includes('..') || /[\u0000-\u001f\u007f]/u.test(name)) {
    throw new ApiError(
      400,
      `invalid unit name ${goQuote(name)}: "/", ".." and control characters are not allowed`,
    );
  }
  return name;
}

/** The page a list request asks for: page 1 without `nextPageToken`. */
export function pageToken(query: URLSearchParams, tokenLimit: number): PageToken {
  const values = query.getAll('nextPageToken');
  if (values.length === 0) return { limit: tokenLimit, page: 1 };
  if (values.length > 1) throw new ApiError(400, 'too many values for page token');
  try {
    return decodePageToken(values[0] as string, tokenLimit);
  } catch (err) {
    if (err instanceof PageTokenError) throw new ApiError(400, err.message);
    throw err;
  }
}
