// The web console's journal of a unit on another machine (docs/console.md): a request key under
// journal/<machine>/request/<id> on the requester's short lease, answered by that machine's fleetd under
// journal/<machine>/reply/<id>; revoking the lease deletes both.
// Design notes: docs/architecture.md, "registry/journal-relay.ts".

import { randomUUID } from 'node:crypto';
import type { IWatchResponse, Namespace, Watcher } from 'etcd3';
import { errorMessage } from '../units/common.js';
import { validateUnitName } from '../units/names.js';
import { assertMachineID, assertUnitName } from './names-guard.js';

export const JOURNAL_PREFIX = 'journal/';
export const machineJournalPrefix = (machineID: string): string => `${JOURNAL_PREFIX}${machineID}/`;
export const journalRequestPrefix = (machineID: string): string =>
  `${machineJournalPrefix(machineID)}request/`;
export const journalReplyKey = (machineID: string, id: string): string =>
  `${machineJournalPrefix(machineID)}reply/${id}`;

/** Lines a request may ask for (the console route's own bound). */
export const MAX_RELAYED_LINES = 500;
/** A reply keeps its newest lines within this size: etcd refuses values over 1.5 MiB by default. */
export const JOURNAL_REPLY_MAX_BYTES = 128 * 1024;
/** How long the requester waits for the other machine (etcd round trips plus journalctl's 5 s bound). */
export const JOURNAL_RELAY_TIMEOUT_MS = 8000;
const LEASE_TTL_S = 30;
const POLL_MS = 100;

export interface JournalRequest {
  readonly unit: string;
  readonly lines: number;
  /** The requester's lease (decimal string): the reply is put on it. */
  readonly lease: string;
}

/** Either the lines or the one-line reason the machine could not read them. */
export type JournalReply = { readonly lines: readonly string[] } | { readonly error: string };

/** A request as the serving machine reads it, or why it is refused (one line). */
export function decodeJournalRequest(text: string): JournalRequest | { problem: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { problem: 'journal request is not JSON' };
  }
  const r = v as Partial<Record<keyof JournalRequest, unknown>>;
  if (typeof r !== 'object' || r === null) return { problem: 'journal request is not an object' };
  if (typeof r.unit !== 'string') return { problem: 'journal request has no unit' };
  const bad = validateUnitName(r.unit);
  if (bad !== null) return { problem: bad };
  if (typeof r.lines !== 'number' || !Number.isInteger(r.lines) || r.lines < 1 || r.lines > MAX_RELAYED_LINES)
    return { problem: `journal request lines must be an integer from 1 to ${MAX_RELAYED_LINES}` };
  if (typeof r.lease !== 'string' || !/^\d{1,20}$/.test(r.lease))
    return { problem: 'journal request has no lease' };
  return { unit: r.unit, lines: r.lines, lease: r.lease };
}

/** The reply's JSON, keeping the newest lines that fit in `maxBytes` (the journal is read newest last). */
export function encodeJournalReply(reply: JournalReply, maxBytes = JOURNAL_REPLY_MAX_BYTES): string {
  if ('error' in reply) return JSON.stringify({ error: reply.error.split('\n')[0]?.slice(0, 500) ?? '' });
  const kept: string[] = [];
  let size = '{"lines":[]}'.length;
  for (let i = reply.lines.length - 1; i >= 0; i--) {
    const line = reply.lines[i] as string;
    const cost = Buffer.byteLength(JSON.stringify(line)) + 1;
    if (size + cost > maxBytes) break;
    size += cost;
    kept.push(line);
  }
  return JSON.stringify({ lines: kept.reverse() });
}

export function decodeJournalReply(text: string): JournalReply {
  try {
    const v = JSON.parse(text) as { lines?: unknown; error?: unknown };
    if (typeof v.error === 'string') return { error: v.error };
    if (Array.isArray(v.lines) && v.lines.every((l) => typeof l === 'string'))
      return { lines: v.lines as string[] };
  } catch {
    // reported below
  }
  return { error: 'the journal reply is malformed' };
}

export class JournalRelayError extends Error {
  constructor(
    message: string,
    /** The machine did not answer at all (as opposed to answering with an error). */
    readonly unanswered: boolean,
  ) {
    super(message);
    this.name = 'JournalRelayError';
  }
}

export interface RequestJournalOptions {
  readonly timeoutMs?: number;
}

/**
 * Asks machine `machineID`'s fleetd for the last `lines` journal lines of `unit`. Throws a
 * JournalRelayError: unanswered after the timeout, or the machine's one-line reason.
 */
export async function requestJournal(
  ns: Namespace,
  machineID: string,
  unit: string,
  lines: number,
  opts: RequestJournalOptions = {},
): Promise<string[]> {
  assertMachineID(machineID);
  assertUnitName(unit);
  const timeoutMs = opts.timeoutMs ?? JOURNAL_RELAY_TIMEOUT_MS;
  const lease = ns.lease(LEASE_TTL_S, { autoKeepAlive: false });
  // A failing keepalive is not ours to report: the request simply goes unanswered.
  lease.on('lost', () => {});
  try {
    const leaseID = await lease.grant();
    const id = randomUUID();
    const request: JournalRequest = { unit, lines, lease: leaseID };
    await lease.put(`${journalRequestPrefix(machineID)}${id}`).value(JSON.stringify(request));
    const replyKey = journalReplyKey(machineID, id);
    // Polled, not watched: one key for a few seconds, and no watcher to cancel on every path.
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
      const text = await ns.get(replyKey).string();
      if (text !== null) {
        const reply = decodeJournalReply(text);
        if ('error' in reply) throw new JournalRelayError(reply.error, false);
        return [...reply.lines];
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    throw new JournalRelayError(`no answer within ${timeoutMs / 1000} s`, true);
  } finally {
    await lease.revoke().catch(() => {});
  }
}

export interface JournalRelayServer {
  stop(): Promise<void>;
}

export interface JournalRelayLog {
  warn(fields: object, msg: string): void;
}

/**
 * Answers journal requests for `machineID` with `read` (journalctl on this machine). A request whose
 * lease has expired (the requester gave up) is dropped: the reply could not be stored anyway.
 */
export async function serveJournalRequests(
  ns: Namespace,
  machineID: string,
  read: (unit: string, lines: number) => Promise<string[]>,
  log: JournalRelayLog,
): Promise<JournalRelayServer> {
  const prefix = journalRequestPrefix(machineID);
  const answer = async (key: string, value: string): Promise<void> => {
    const id = key.slice(prefix.length);
    const req = decodeJournalRequest(value);
    if ('problem' in req) {
      log.warn({ key, problem: req.problem }, 'refusing a malformed journal request');
      return;
    }
    let reply: JournalReply;
    try {
      reply = { lines: await read(req.unit, req.lines) };
    } catch (err) {
      reply = { error: errorMessage(err) };
    }
    await ns
      .put(journalReplyKey(machineID, id))
      .value(encodeJournalReply(reply))
      .lease(req.lease)
      .catch((err: unknown) => log.warn({ key, err: String(err) }, 'journal reply not stored'));
  };
  const watcher: Watcher = await ns.watch().prefix(prefix).create();
  watcher.on('data', (res: IWatchResponse) => {
    for (const e of res.events) {
      if (e.type !== 'Put' || Number(e.kv.version) !== 1) continue;
      void answer(e.kv.key.toString(), e.kv.value.toString());
    }
  });
  // etcd3 re-establishes a failing watch; a request missed meanwhile goes unanswered (the page says so).
  watcher.on('error', () => {});
  return {
    stop: async () => {
      await watcher.cancel().catch(() => {});
    },
  };
}
