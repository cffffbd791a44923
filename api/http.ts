// HTTP helpers of the API server: fleet's error type, replies, request bodies.

import type { IncomingMessage, ServerResponse } from 'node:http';

/** An HTTP error with fleet's `{"error":{"code","message"}}` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Go's %q for the plain strings used in messages. */
export const goQuote = (s: string): string => JSON.stringify(s);

/** Exactly one Content-Type, of media type application/json (parameters allowed). */
export function checkContentType(req: IncomingMessage): void {
  const types = req.headersDistinct['content-type'] ?? [];
  if (types.length !== 1) throw new ApiError(415, `expected 1 Content-Type, got ${types.length}`);
  const media = (types[0] as string).split(';')[0]?.trim().toLowerCase() ?? '';
  if (media === '') throw new ApiError(415, 'mime: no media type');
  if (media !== 'application/json')
    throw new ApiError(415, 'only acceptable Content-Type is application/json');
}

/**
 * The body as text, at most `max` bytes. A larger declared or streamed body is refused with 413 at
 * once, without buffering the rest; the connection is then closed so the remainder is never read.
 */
export async function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<string> {
  const tooLarge = (): ApiError => {
    res.setHeader('Connection', 'close');
    return new ApiError(413, `request body larger than ${max} bytes`);
  };
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) throw tooLarge();
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        req.pause();
        finish(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => finish());
    req.on('error', (err) => finish(err));
    req.on('aborted', () => finish(new ApiError(400, 'request aborted')));
  });
}

/** A JSON reply of `text`, or an empty one. */
export function send(res: ServerResponse, status: number, text?: string): void {
  if (text === undefined) {
    if (status !== 204) res.setHeader('Content-Length', '0');
    res.writeHead(status);
    res.end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendJSON(res: ServerResponse, status: number, value: object): void {
  send(res, status, JSON.stringify(value));
}
