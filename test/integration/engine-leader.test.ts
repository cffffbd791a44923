// Leader election against a real etcd: one leader at a time, resign, disable_engine, external lease
// revocation, and self-fencing while etcd does not answer.
import type { Etcd3, Namespace } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLeaderElection, type LeaderElection } from '../../engine/leader.js';
import { createEngineStore } from '../../registry/engine-store.js';
import { NotLeaderError } from '../../registry/types.js';
import { connect, quietLog, sleep, waitFor } from '../support/campaign-fixtures.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';

let etcd: EtcdServer;
let raw: Etcd3;
let ns: Namespace;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  ({ client: raw, ns } = connect(etcd.endpoint));
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await raw.delete().all();
});

afterAll(async () => {
  raw?.close();
  await etcd?.stop();
});

// 10 s leases by default: with 3 s (2 s to prove the lease alive) a loaded machine's event-loop
// delays deposed leaders at random, and 'exactly one leader' saw none.
function candidate(id: string, ttlSeconds = 10, disabled = false): LeaderElection & { events: string[] } {
  const c = connect(etcd.endpoint);
  const el = createLeaderElection({
    ns: c.ns,
    machineID: id,
    ttlSeconds,
    log: quietLog(),
    retryIntervalMs: 300,
    disabled,
  });
  const events: string[] = [];
  el.on('elected', () => events.push('elected'));
  el.on('deposed', (r) => events.push(`deposed:${r}`));
  cleanups.push(async () => {
    await el.stop();
    c.client.close();
  });
  el.start();
  return Object.assign(el, { events });
}

describe('engine leader election', () => {
  it('elects exactly one leader; on resign another takes over at once', async () => {
    const a = candidate('a');
    const b = candidate('b');
    const c = candidate('c');
    const all = [a, b, c];
    const first = await waitFor('a leader', async () => all.find((x) => x.isLeader()));
    await sleep(300);
    expect(all.filter((x) => x.isLeader())).toHaveLength(1);
    expect(await ns.get('engine/leader').string()).toBe(['a', 'b', 'c'][all.indexOf(first)]);
    const t0 = Date.now();
    await first.stop();
    const second = await waitFor('a new leader', async () => all.find((x) => x !== first && x.isLeader()));
    console.log(`resign -> new leader: ${Date.now() - t0} ms`);
    expect(second).not.toBe(first);
    expect(first.events).toEqual(['elected', 'deposed:stopped']);
  });

  it('a disable_engine machine never campaigns, even when nobody leads', async () => {
    const d = candidate('d', 3, true);
    await sleep(800);
    expect(d.isLeader()).toBe(false);
    expect(await ns.get('engine/leader').string()).toBeNull();
  });

  it("revoking the leader's lease from outside deposes it; its old guard can no longer write", async () => {
    const a = candidate('a');
    await waitFor('a leads', async () => a.isLeader());
    const guard = a.guard();
    expect(guard).not.toBeNull();
    const kv = (await ns.get('engine/leader').exec()).kvs[0];
    await raw.leaseClient.leaseRevoke({ ID: kv?.lease ?? '0' });
    await waitFor('a deposed', async () => a.events.some((e) => e.startsWith('deposed')));
    // a campaigns again with a new lease and wins a new term; the old term's guard is dead.
    await waitFor('a re-elected', async () => a.isLeader());
    expect(a.guard()?.createRevision).not.toBe(guard?.createRevision);
    const store = createEngineStore(ns, quietLog());
    const change = {
      kind: 'put' as const,
      machineID: 'm1',
      unit: 'x.service',
      record: { hash: 'a'.repeat(40), desiredState: 'launched' as const },
      reason: 't',
    };
    await expect(store.applyChanges([change], guard!)).rejects.toBeInstanceOf(NotLeaderError);
    expect(await ns.get('schedule/m1/x.service').string()).toBeNull();
  });

  it('self-fences when etcd stops answering, before its lease can expire', async () => {
    const a = candidate('a', 3);
    await waitFor('a leads', async () => a.isLeader());
    await sleep(1100); // let a keepalive round complete
    let pausedAt = 0;
    try {
      etcd.pause();
      pausedAt = Date.now();
      await waitFor('a fenced', async () => !a.isLeader(), 60_000, 10);
      const fencedAfter = Date.now() - pausedAt;
      console.log(
        `etcd paused -> leader fenced itself after ${fencedAfter} ms (TTL 3000 ms, margin 1000 ms)`,
      );
      // Fenced at ttl - margin after its last acknowledged keepalive: strictly before the lease
      // (TTL after that keepalive) can expire and another machine can be elected. The figure is
      // printed, not asserted (a loaded machine polls late); the reason shows it fenced itself.
      await waitFor('deposed event', async () => a.events.at(-1)?.startsWith('deposed:'), 60_000, 10);
      expect(a.events.at(-1)).toBe('deposed:lease keepalive overdue (self-fenced)');
    } finally {
      etcd.resume();
    }
    await waitFor('a leads again after etcd is back', async () => a.isLeader(), 60_000);
  }, 180_000);
});
