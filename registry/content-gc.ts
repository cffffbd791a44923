// Deletes unit contents (`unit/<hash>`) that no job and no schedule entry references any more. fleet
// never deleted them: every replacement of a unit left its old contents in etcd for ever.
// Design notes: docs/architecture.md, "registry/content-gc.ts".

import type { Namespace } from 'etcd3';
import type { LeaderGuard } from '../engine/store.js';
import { MAX_TXN_OPS, prefixKeys, rangePrefix } from './etcd-read.js';
import { JOB_PREFIX, SCHEDULE_PREFIX, UNIT_CONTENT_PREFIX, unitContentKey } from './keys.js';

/** Default grace before an unreferenced content is deleted. */
export const CONTENT_GC_GRACE_MS = 10 * 60_000;

export interface ContentCollectorOptions {
  readonly graceMs?: number;
  readonly now?: () => number;
}

export class ContentCollector {
  private readonly unreferencedSince = new Map<string, number>();
  private readonly graceMs: number;
  private readonly now: () => number;

  constructor(
    private readonly ns: Namespace,
    opts: ContentCollectorOptions = {},
  ) {
    this.graceMs = opts.graceMs ?? CONTENT_GC_GRACE_MS;
    this.now = opts.now ?? Date.now;
  }

  /** One collection; returns the number of contents deleted. Throws on etcd errors. */
  async collect(guard: LeaderGuard): Promise<number> {
    const jobs = await rangePrefix(this.ns, JOB_PREFIX);
    const revision = jobs.revision;
    const schedule = await rangePrefix(this.ns, SCHEDULE_PREFIX, revision);
    const contentKeys = await prefixKeys(this.ns, UNIT_CONTENT_PREFIX, revision);
    const referenced = new Set<string>();
    for (const kv of [...jobs.kvs, ...schedule.kvs]) {
      const hash = hashOf(kv.value.toString());
      if (hash !== undefined) referenced.add(hash);
    }
    const now = this.now();
    const present = new Set<string>();
    const due: string[] = [];
    for (const key of contentKeys) {
      const hash = key.slice(UNIT_CONTENT_PREFIX.length);
      present.add(hash);
      if (referenced.has(hash)) {
        this.unreferencedSince.delete(hash);
        continue;
      }
      const since = this.unreferencedSince.get(hash);
      if (since === undefined) this.unreferencedSince.set(hash, now);
      if (now - (since ?? now) >= this.graceMs) due.push(hash);
    }
    for (const hash of this.unreferencedSince.keys())
      if (!present.has(hash)) this.unreferencedSince.delete(hash);

    // Each delete carries one compare; the leader compare is one more.
    const notAfter = String(BigInt(revision) + 1n);
    let deleted = 0;
    for (let i = 0; i < due.length; i += MAX_TXN_OPS - 1) {
      const chunk = due.slice(i, i + MAX_TXN_OPS - 1);
      let txn = this.ns.if(guard.key, 'Create', '==', guard.createRevision);
      for (const hash of chunk) txn = txn.and(unitContentKey(hash), 'Mod', '<', notAfter);
      const res = await txn.then(...chunk.map((hash) => this.ns.delete().key(unitContentKey(hash)))).commit();
      if (!res.succeeded) continue; // leadership lost or a content rewritten: decided again next time
      for (const hash of chunk) this.unreferencedSince.delete(hash);
      deleted += chunk.length;
    }
    return deleted;
  }
}

/** The `hash` field of a job or schedule record, without failing on a record that is not JSON. */
function hashOf(text: string): string | undefined {
  try {
    const o = JSON.parse(text) as { hash?: unknown };
    return typeof o.hash === 'string' ? o.hash : undefined;
  } catch {
    return undefined;
  }
}
