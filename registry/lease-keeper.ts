// Keeps one etcd lease alive for the agent, on etcd's lease RPCs rather than etcd3's Lease: it resumes a
// lease by ID, proves liveness by the send time of the newest acknowledged keepalive, and only etcd's
// answer (TTL 0) means lost.
// Design notes: docs/architecture.md, "registry/lease-keeper.ts".
import type { LeaseClient } from 'etcd3/lib/rpc.js';

export interface LeaseKeeperOptions {
  readonly client: LeaseClient;
  readonly ttlSec: number;
  /** Monotonic clock in ms (performance.now by default); injectable for tests. */
  readonly now?: () => number;
  /** Called once when etcd says the lease no longer exists. */
  readonly onLost: (reason: string) => void;
  /** Called when a keepalive was acknowledged after keepalives had gone unanswered (reconnected). */
  readonly onReconnected?: () => void;
}

type KeepaliveStream = Awaited<ReturnType<LeaseClient['leaseKeepAlive']>>;

const RECONNECT_DELAY_MS = 500;

export class LeaseKeeper {
  private readonly now: () => number;
  private readonly intervalMs: number;
  private stream: KeepaliveStream | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  /** Send times of keepalives not yet answered, oldest first (etcd answers a stream in order). */
  private pending: number[] = [];
  private proof = 0;
  private stopped = false;
  private lost = false;
  private missed = false;

  private constructor(
    private readonly opts: LeaseKeeperOptions,
    readonly id: string,
    provenAt: number,
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.intervalMs = Math.max(100, (opts.ttlSec * 1000) / 3);
    this.proof = provenAt;
    this.open();
  }

  /** Grants a new lease and keeps it alive. */
  static async grant(opts: LeaseKeeperOptions): Promise<LeaseKeeper> {
    const now = opts.now ?? (() => performance.now());
    const sentAt = now();
    const res = await opts.client.leaseGrant({ TTL: opts.ttlSec });
    return new LeaseKeeper(opts, String(res.ID), sentAt);
  }

  /** Keeps an existing lease alive; null when etcd no longer has it. */
  static async resume(opts: LeaseKeeperOptions, id: string): Promise<LeaseKeeper | null> {
    const now = opts.now ?? (() => performance.now());
    const sentAt = now();
    const res = await opts.client.leaseTimeToLive({ ID: id });
    if (Number(res.TTL) <= 0) return null;
    return new LeaseKeeper(opts, id, sentAt);
  }

  /** Monotonic send time of the newest request etcd acknowledged for this lease (grant included). */
  lastProof(): number {
    return this.proof;
  }

  isLost(): boolean {
    return this.lost;
  }

  /** Stops keepalives; the lease then expires after its TTL unless revoked. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.reopenTimer);
    this.closeStream();
  }

  async revoke(): Promise<void> {
    this.stop();
    await this.opts.client.leaseRevoke({ ID: this.id });
  }

  private open(): void {
    if (this.stopped) return;
    this.opts.client.leaseKeepAlive().then(
      (stream) => {
        if (this.stopped) {
          stream.end();
          return;
        }
        this.stream = stream;
        this.pending = [];
        stream.on('data', (res: { TTL: string }) => {
          if (this.stream !== stream) return;
          const sentAt = this.pending.shift();
          if (Number(res.TTL) <= 0) {
            this.markLost('etcd reports the lease expired');
            return;
          }
          if (sentAt !== undefined && sentAt > this.proof) this.proof = sentAt;
          if (this.missed) {
            this.missed = false;
            this.opts.onReconnected?.();
          }
        });
        stream.on('error', () => this.reopen(stream));
        stream.on('end', () => this.reopen(stream));
        this.timer ??= setInterval(() => this.tick(), this.intervalMs);
        this.tick();
      },
      () => this.reopen(undefined),
    );
  }

  private tick(): void {
    const stream = this.stream;
    if (this.stopped || !stream) return;
    const oldest = this.pending[0];
    // Unanswered for two intervals: the connection is dead even if gRPC has not noticed (a partition
    // drops packets silently). Open a fresh stream; the next keepalive goes out on it.
    if (oldest !== undefined && this.now() - oldest > 2 * this.intervalMs) {
      this.missed = true;
      this.reopen(stream);
      return;
    }
    this.pending.push(this.now());
    try {
      stream.write({ ID: this.id });
    } catch {
      this.reopen(stream);
    }
  }

  private reopen(stream: KeepaliveStream | undefined): void {
    if (this.stopped || this.stream !== stream) return;
    this.missed = true;
    this.closeStream();
    clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => this.open(), RECONNECT_DELAY_MS);
  }

  private closeStream(): void {
    const s = this.stream;
    this.stream = undefined;
    this.pending = [];
    try {
      s?.end();
    } catch {
      // already closed
    }
  }

  private markLost(reason: string): void {
    if (this.lost) return;
    this.lost = true;
    this.stop();
    this.opts.onLost(reason);
  }
}
