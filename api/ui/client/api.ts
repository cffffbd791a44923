// The page's only way to the cluster: fleetd's API on the origin that served the page. A bearer token,
// when this listener needs one, lives in this module's memory only (never in storage or the URL).

import type { ConsoleSnapshot } from '../schema.js';

export class AuthRequired extends Error {}

let token: string | undefined;

export function setToken(t: string): void {
  token = t;
}

/** Whether a token was entered (a 401 then means fleetd refused it). */
export const hasToken = (): boolean => token !== undefined;

function headers(extra: Record<string, string> = {}): Record<string, string> {
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

/** fleet's error body message, or the status line. */
async function failure(res: Response): Promise<Error> {
  if (res.status === 401) return new AuthRequired('missing or invalid bearer token');
  const text = await res.text().catch(() => '');
  try {
    const m = (JSON.parse(text) as { error?: { message?: string } }).error?.message;
    if (m) return new Error(m);
  } catch {
    // not fleet's error body
  }
  return new Error(`${res.status} ${res.statusText}`.trim());
}

/** A request to /fleet/v1/<path>; the JSON reply (undefined for an empty one), or throws its message. */
export async function api<T>(method: string, path: string, body?: object): Promise<T | undefined> {
  const res = await fetch(`/fleet/v1/${path}`, {
    method,
    headers: headers(body ? { 'Content-Type': 'application/json' } : {}),
    ...(body ? { body: JSON.stringify(body) } : {}),
    cache: 'no-store',
  });
  if (!res.ok) throw await failure(res);
  const text = await res.text();
  return text === '' ? undefined : (JSON.parse(text) as T);
}

export const unitPath = (name: string): string => `units/${encodeURIComponent(name)}`;

/**
 * Reads the console's server-sent events until the stream ends. fetch rather than EventSource, which
 * cannot send an Authorization header.
 */
export async function readEvents(
  onSnapshot: (s: ConsoleSnapshot) => void,
  onProblem: (message: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch('/fleet/v1/console/events', {
    headers: headers({ Accept: 'text/event-stream' }),
    cache: 'no-store',
    signal,
  });
  if (!res.ok || !res.body) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    for (let end = buf.indexOf('\n\n'); end !== -1; end = buf.indexOf('\n\n')) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length === 0) continue;
      if (event === 'snapshot') onSnapshot(JSON.parse(data.join('\n')) as ConsoleSnapshot);
      else if (event === 'problem') onProblem((JSON.parse(data.join('\n')) as { message: string }).message);
    }
  }
}
