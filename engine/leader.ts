// Engine leader election on etcd v3, hand-rolled instead of etcd3's Election: in etcd3 1.1.2 observe()
// can report the last-created candidate instead of the leader, and Campaign hides its lease, so a
// partitioned leader learns it lost only after 2 × TTL, when another machine has long taken over.
// Design notes: docs/architecture.md, "engine/leader.ts".

import { EventEmitter } from 'node:events';
import type { Lease, Namespace, Watcher } from 'etcd3';
import { ENGINE_LEADER_KEY } from '../registry/keys.js';
import type { Logger } from '../units/log.js';
import type { LeaderGuard } from './store.js';

export interface LeaderElectionOptions {
  /** Client namespaced to the registry prefix. */
  readonly ns: Namespace;
  readonly machineID: string;
  /** Lease TTL; fleet uses 5 × engine_reconcile_interval (10 s by default). */
  readonly ttlSeconds: number;
  /** Safety margin subtracted from the TTL for self-fencing; default max(1 s, ttl / 5). */
  readonly marginMs?: number;
  /** How often a follower re-checks whether it can campaign (besides the delete watch); default 1 s. */
  readonly retryIntervalMs?: number;
  /** disable_engine: never campaign. */
  readonly disabled?: boolean;
  readonly log: Logger;
  /** Clock, for tests. */
  readonly now?: () => number;
}

export interface LeaderElection {
  start(): void;
  /** True only while this machine holds the key and can prove its lease alive. */
  isLeader(): boolean;
  /** The guard of the current term, or null when not (provably) leader. */
  guard(): LeaderGuard | null;
  on(event: 'elected', listener: (guard: LeaderGuard) => void): this;
  on(event: 'deposed', listener: (reason: string) => void): this;
  /**
   * The leader's keepalives were failing or overdue and are answered again, without losing the term:
   * etcd was unreachable for a while, so machines may not have been able to renew their leases either.
   */
  on(event: 'reconnected', listener: () => void): this;
  off(event: 'elected', listener: (guard: LeaderGuard) => void): this;
  off(event: 'deposed', listener: (reason: string) => void): this;
  off(event: 'reconnected', listener: () => void): this;
  /** Resign (delete the key if still ours, revoke the lease) and stop campaigning. */
  stop(): Promise<void>;
}

interface Term {
  readonly lease: Lease;
  readonly guard: LeaderGuard;
  readonly proof: {
    /** Send time of the newest keepalive etcd acknowledged (or of the grant request). */
    lastProof: number;
    /** Send times of keepalives not yet acknowledged, oldest first (the stream answers in order). */
    pending: number[];
    /** Keepalives went unanswered for two intervals since the last 'reconnected'. */
    disrupted: boolean;
  };
}

export function createLeaderElection(opts: LeaderElectionOptions): LeaderElection {
  return new EtcdLeaderElection(opts);
}

class EtcdLeaderElection extends EventEmitter implements LeaderElection {
  private readonly ns: Namespace;
  private readonly ttlMs: number;
  private readonly marginMs: number;
  private readonly now: () => number;
  private term: Term | null = null;
  private campaigning = false;
  private stopped = false;
  private started = false;
  private watcher: Watcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private fenceTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: LeaderElectionOptions) {
    super();
    this.ns = opts.ns;
    this.ttlMs = opts.ttlSeconds * 1000;
    this.marginMs = opts.marginMs ?? Math.max(1000, this.ttlMs / 5);
    if (this.marginMs >= this.ttlMs) {
      throw new Error(
        `engine lease TTL ${opts.ttlSeconds}s is too short for a ${this.marginMs} ms safety margin`,
      );
    }
    // Monotonic: a wall-clock step must neither extend nor cut short what a keepalive proves.
    this.now = opts.now ?? (() => performance.now());
  }

  start(): void {
    if (this.started || this.opts.disabled) return;
    this.started = true;
    const w = this.ns.watch().key(ENGINE_LEADER_KEY).watcher();
    this.watcher = w;
    w.on('delete', () => {
      if (this.term) this.depose('leader key deleted');
      void this.campaign();
    });
    w.on('put', (kv) => {
      if (this.term && kv.create_revision !== this.term.guard.createRevision) {
        this.depose('leader key now held by another term');
      }
    });
    // A failed watch is only an optimisation loss: the poll below still campaigns.
    w.on('error', (err: unknown) => this.opts.log.warn({ err: String(err) }, 'leader watch error'));
    this.pollTimer = setInterval(() => void this.campaign(), this.opts.retryIntervalMs ?? 1000);
    this.fenceTimer = setInterval(() => this.checkFence(), Math.min(200, Math.max(20, this.ttlMs / 20)));
    void this.campaign();
  }

  isLeader(): boolean {
    return this.term !== null && this.proofValid(this.term);
  }

  guard(): LeaderGuard | null {
    return this.term && this.proofValid(this.term) ? this.term.guard : null;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearInterval(this.fenceTimer);
    const w = this.watcher;
    this.watcher = undefined;
    const term = this.term;
    this.term = null;
    if (term) {
      try {
        // Resign: delete the key only if it is still this term's, so a successor is never removed.
        await this.ns
          .if(ENGINE_LEADER_KEY, 'Create', '==', term.guard.createRevision)
          .then(this.ns.delete().key(ENGINE_LEADER_KEY))
          .commit();
      } catch (err) {
        this.opts.log.warn({ err: String(err) }, 'resigning engine leadership failed; the lease will expire');
      }
      await this.dropLease(term);
      this.emit('deposed', 'stopped');
    }
    if (w) await w.cancel().catch(() => undefined);
  }

  private proofValid(term: Term): boolean {
    return this.now() - term.proof.lastProof <= this.ttlMs - this.marginMs;
  }

  private checkFence(): void {
    const term = this.term;
    if (!term) return;
    if (!this.proofValid(term)) {
      this.depose('lease keepalive overdue (self-fenced)');
      return;
    }
    // etcd3 sends a keepalive every ttl/3.
    const interval = this.ttlMs / 3;
    const gap = this.now() - term.proof.lastProof;
    if (gap > 2 * interval) term.proof.disrupted = true;
    else if (term.proof.disrupted && gap <= interval) {
      term.proof.disrupted = false;
      this.opts.log.warn({ machine: this.opts.machineID }, 'engine leader reaches etcd again');
      this.emit('reconnected');
    }
  }

  private depose(reason: string): void {
    const term = this.term;
    if (!term) return;
    this.term = null;
    this.opts.log.warn({ machine: this.opts.machineID, reason }, 'engine leadership lost');
    this.emit('deposed', reason);
    // Revoking deletes the key at once if etcd is reachable (fast takeover); otherwise it expires.
    void this.dropLease(term);
  }

  private async dropLease(term: Term): Promise<void> {
    term.lease.removeAllListeners();
    try {
      await term.lease.revoke();
    } catch {
      term.lease.release();
    }
  }

  private async campaign(): Promise<void> {
    if (this.stopped || this.opts.disabled || this.term || this.campaigning) return;
    this.campaigning = true;
    let lease: Lease | undefined;
    try {
      // Cheap check first: no lease is granted while somebody else leads.
      if ((await this.ns.get(ENGINE_LEADER_KEY).string()) !== null) return;
      const requestedAt = this.now();
      const l = this.ns.lease(this.opts.ttlSeconds);
      lease = l;
      // Keepalive tracking starts with the lease (its keepalives start as soon as it is granted), so
      // every acknowledgement pairs with the keepalive it answers.
      const proof = { lastProof: requestedAt, pending: [] as number[], disrupted: false };
      l.on('keepaliveFired', () => proof.pending.push(this.now()));
      l.on('keepaliveEstablished', () => {
        proof.pending = [];
      });
      // A failed keepalive alone is not a disruption: etcd3 re-opens the stream at once, and while a
      // member is away that can fail every few hundred ms with fresh proofs in between (which made the
      // engine log "reaches etcd again" and restart its grace period every 200 ms). Only a proof older
      // than two intervals is (checkFence).
      l.on('keepaliveFailed', () => {
        proof.pending = [];
      });
      l.on('keepaliveSucceeded', () => {
        const sentAt = proof.pending.shift();
        if (sentAt !== undefined && sentAt > proof.lastProof) proof.lastProof = sentAt;
      });
      const id = await l.grant();
      const res = await this.ns
        .if(ENGINE_LEADER_KEY, 'Create', '==', 0)
        .then(this.ns.put(ENGINE_LEADER_KEY).value(this.opts.machineID).lease(id))
        .commit();
      if (!res.succeeded || this.stopped) {
        l.removeAllListeners();
        await l.revoke().catch(() => l.release());
        lease = undefined;
        return;
      }
      const term: Term = {
        lease: l,
        guard: { key: ENGINE_LEADER_KEY, createRevision: res.header.revision },
        proof,
      };
      l.on('lost', () => {
        if (this.term === term) this.depose('lease lost');
      });
      lease = undefined;
      this.term = term;
      if (!this.proofValid(term)) {
        // The campaign itself took longer than the lease can be trusted for.
        this.depose('campaign too slow to trust the lease');
        return;
      }
      this.opts.log.info(
        { machineID: this.opts.machineID, createRevision: term.guard.createRevision },
        'elected engine leader',
      );
      this.emit('elected', term.guard);
    } catch (err) {
      this.opts.log.warn({ err: String(err) }, 'engine leader campaign failed; will retry');
      const l = lease;
      if (l) {
        l.removeAllListeners();
        await l.revoke().catch(() => l.release());
      }
    } finally {
      this.campaigning = false;
    }
  }
}
