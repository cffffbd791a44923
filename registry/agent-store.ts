// The agent's side of the registry: the machine's presence and unit states under one lease (when the
// agent leaves or dies, everything it reported vanishes at once: no ghosts in `list-units`), the
// machine's own schedule (agent-schedule.ts), and unit contents by hash.

import type { Namespace } from 'etcd3';
import type { AgentStateRecord, AgentStore, ScheduleHandler } from '../agent/store.js';
import { ByteLru } from '../units/byte-lru.js';
import { errorMessage } from '../units/common.js';
import type { Logger } from '../units/log.js';
import type { MachineState } from '../units/types.js';
import { ScheduleFollower } from './agent-schedule.js';
import { machineObjectKey, unitContentKey, unitStateKey } from './keys.js';
import { LeaseKeeper } from './lease-keeper.js';
import { decodeMachine, encodeMachine, encodeState } from './records.js';

export interface EtcdAgentStoreOptions {
  /** An etcd3 client namespaced to the key prefix. */
  readonly etcd: Namespace;
  readonly machineID: string;
  /** agent_ttl; the lease TTL in whole seconds (at least 1). */
  readonly ttlMs: number;
  readonly log?: Logger;
  /** A lease this host held before a restart (fleetd SIGKILLed): resumed if etcd still has it. */
  readonly resumeLeaseID?: string;
  /** Called with every lease the store starts using (to keep it for a restart). */
  readonly onLease?: (leaseID: string) => void;
  /** Monotonic clock for lease proofs (tests). */
  readonly now?: () => number;
}

/** The machine ID is registered by another live fleetd: we must not take it over. */
export class RegistrationHeldError extends Error {
  constructor(
    readonly machineID: string,
    readonly holderIP: string,
  ) {
    super(
      `machine ID ${machineID} is registered by another live fleetd (public IP ${holderIP || 'unknown'}); ` +
        'refusing to take over its registration (two hosts with one machine ID?); retrying',
    );
    this.name = 'RegistrationHeldError';
  }
}

const RETRY_MIN_MS = 500;
/** State puts per transaction: below etcd's default --max-txn-ops (128). */
const STATE_BATCH = 127;
const RETRY_MAX_MS = 5000;

export class EtcdAgentStore implements AgentStore {
  private readonly etcd: Namespace;
  private readonly machineID: string;
  private readonly ttlSec: number;
  private readonly log: Logger | undefined;
  private lease: LeaseKeeper | undefined;
  /** Lease IDs this process (or its predecessor on this boot) registered with: ours to take back. */
  private readonly ownLeases = new Set<string>();
  private resumeLeaseID: string | undefined;
  private machine: MachineState | undefined;
  private readonly renewedCallbacks: (() => void)[] = [];
  /** What this store has published, so a new lease can carry it again. */
  private readonly published = new Map<string, AgentStateRecord>();
  /** Bounded by bytes: contents of replaced units must not pile up (issue 14). */
  private readonly unitTexts = new ByteLru();
  private readonly schedule: ScheduleFollower;
  private closed = false;
  private renewing = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private proof = 0;
  /** The lease was lost: the schedule must be read again before the new lease proves anything. */
  private scheduleStale = false;
  private lossGeneration = 0;
  private readonly pendingStates: {
    unit: string;
    value: string;
    resolve: () => void;
    reject: (err: Error) => void;
  }[] = [];

  constructor(private readonly opts: EtcdAgentStoreOptions) {
    this.etcd = opts.etcd;
    this.machineID = opts.machineID;
    this.ttlSec = Math.max(1, Math.ceil(opts.ttlMs / 1000));
    this.log = opts.log;
    this.resumeLeaseID = opts.resumeLeaseID;
    if (opts.resumeLeaseID) this.ownLeases.add(opts.resumeLeaseID);
    this.schedule = new ScheduleFollower(opts.etcd, opts.machineID, opts.log, () => this.resyncWithRetry());
  }

  /** Watch events received for keys outside this machine's schedule (the benchmark checks it stays 0). */
  foreignWatchEvents(): number {
    return this.schedule.foreignEvents;
  }

  /**
   * The current lease's proof, but only once the schedule was read again after a lost lease: until
   * then the agent must stay fenced (the engine may have moved its units meanwhile), so the proof of
   * the lost lease is returned.
   */
  leaseProof(): number {
    if (this.lease && !this.scheduleStale) this.proof = Math.max(this.proof, this.lease.lastProof());
    return this.proof;
  }

  leaseID(): string | undefined {
    return this.lease?.id;
  }

  onLeaseRenewed(cb: () => void): void {
    this.renewedCallbacks.push(cb);
  }

  async announce(machine: MachineState): Promise<void> {
    this.machine = machine;
    await this.grantAndPublish();
  }

  private keeperOptions() {
    return {
      client: this.etcd.leaseClient,
      ttlSec: this.ttlSec,
      ...(this.opts.now ? { now: this.opts.now } : {}),
    };
  }

  /** The resumable lease of a restarted fleetd, else a new one. */
  private async obtainLease(): Promise<LeaseKeeper> {
    let keeper: LeaseKeeper | null = null;
    const onLost = (reason: string) => {
      if (!keeper || this.lease !== keeper || this.closed) return;
      this.log?.warn({ machine: this.machineID, reason }, 'machine lease lost; announcing again');
      this.scheduleStale = true;
      this.lossGeneration++;
      this.lease = undefined;
      this.renew();
    };
    const resumeID = this.resumeLeaseID;
    this.resumeLeaseID = undefined;
    if (resumeID) {
      keeper = await LeaseKeeper.resume({ ...this.keeperOptions(), onLost }, resumeID).catch(() => null);
      if (keeper) {
        this.log?.info(
          { machine: this.machineID, lease: resumeID },
          'resuming the lease of the previous fleetd',
        );
        return keeper;
      }
    }
    keeper = await LeaseKeeper.grant({ ...this.keeperOptions(), onLost });
    return keeper;
  }

  /**
   * Claims `machines/<id>/object` for our lease: created if absent, taken back if it is held by one of
   * our own leases (a previous lease of this process or of the fleetd this one replaced on this boot);
   * held by any other lease, it belongs to another live fleetd: RegistrationHeldError.
   */
  private async claimRegistration(leaseID: string, machine: MachineState): Promise<void> {
    const key = machineObjectKey(this.machineID);
    const value = encodeMachine(machine);
    for (let attempt = 0; attempt < 3; attempt++) {
      const created = await this.etcd
        .if(key, 'Create', '==', 0)
        .then(this.etcd.put(key).value(value).lease(leaseID))
        .commit();
      if (created.succeeded) return;
      const res = await this.etcd.get(key).exec();
      const kv = res.kvs[0];
      if (!kv) continue; // expired meanwhile: create it
      const holder = String(kv.lease);
      if (holder !== leaseID && !this.ownLeases.has(holder)) {
        let ip = '';
        try {
          ip = decodeMachine(key, kv.value.toString()).publicIP;
        } catch {
          // unreadable: the ID alone goes into the error
        }
        throw new RegistrationHeldError(this.machineID, ip);
      }
      const taken = await this.etcd
        .if(key, 'Mod', '==', kv.mod_revision)
        .then(this.etcd.put(key).value(value).lease(leaseID))
        .commit();
      if (taken.succeeded) return;
    }
    throw new Error(`registering machine ${this.machineID} kept racing with other writes; retrying`);
  }

  /** Obtains a lease, claims the machine object and writes every state published so far under it. */
  private async grantAndPublish(): Promise<void> {
    const machine = this.machine;
    if (!machine) throw new Error('announce() must be called first');
    const lease = await this.obtainLease();
    try {
      await this.claimRegistration(lease.id, machine);
      // Same-lease states: they vanish with the machine.
      await Promise.all(
        [...this.published].map(([unit, rec]) =>
          this.etcd.put(unitStateKey(this.machineID, unit)).value(encodeState(rec)).lease(lease.id),
        ),
      );
    } catch (err) {
      if (!this.ownLeases.has(lease.id)) await lease.revoke().catch(() => lease.stop());
      else lease.stop();
      throw err;
    }
    if (this.closed) {
      await lease.revoke().catch(() => undefined);
      return;
    }
    const old = this.lease;
    this.lease = lease;
    this.ownLeases.add(lease.id);
    this.opts.onLease?.(lease.id);
    // A replaced lease (e.g. after a lost event raced with us) must not keep our keys alive twice.
    if (old && old !== lease) old.stop();
    this.log?.info({ machine: this.machineID, ttl: this.ttlSec, lease: lease.id }, 'machine announced');
  }

  /** Re-announce with backoff until it works (or the store closes). */
  private renew(delay = 0): void {
    if (this.closed || this.renewing) return;
    this.renewing = true;
    this.retryTimer = setTimeout(async () => {
      try {
        await this.grantAndPublish();
        this.renewing = false;
        if (this.closed) return;
        await this.resyncSchedule().catch((err: Error) =>
          this.log?.warn({ machine: this.machineID, err: err.message }, 'schedule resync failed'),
        );
        for (const cb of this.renewedCallbacks) cb();
      } catch (err) {
        this.renewing = false;
        const log = err instanceof RegistrationHeldError ? this.log?.error : this.log?.warn;
        log?.call(
          this.log,
          { machine: this.machineID, err: errorMessage(err) },
          'announcing machine failed; retrying',
        );
        this.renew(Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, delay * 2)));
      }
    }, delay);
  }

  async watchSchedule(machineID: string, handler: ScheduleHandler): Promise<void> {
    if (machineID !== this.machineID) throw new Error(`store of ${this.machineID} cannot watch ${machineID}`);
    this.schedule.setHandler(handler);
    await this.resyncSchedule();
  }

  async resyncSchedule(): Promise<void> {
    const generation = this.lossGeneration;
    await this.schedule.resync();
    // Only a read that began after the last loss makes the schedule fresh again.
    if (generation === this.lossGeneration) this.scheduleStale = false;
  }

  private resyncWithRetry(delay = RETRY_MIN_MS): void {
    setTimeout(() => {
      if (this.closed) return;
      this.resyncSchedule().catch(() => this.resyncWithRetry(Math.min(RETRY_MAX_MS, delay * 2)));
    }, delay);
  }

  async getUnitText(hash: string): Promise<string | null> {
    const cached = this.unitTexts.get(hash);
    if (cached !== undefined) return cached;
    const text = await this.etcd.get(unitContentKey(hash)).string();
    if (text !== null) this.unitTexts.set(hash, text);
    return text;
  }

  async publishState(unit: string, record: AgentStateRecord): Promise<void> {
    this.published.set(unit, record);
    const lease = this.lease;
    if (!lease) throw new Error(`machine ${this.machineID} has no lease; state of ${unit} kept for later`);
    // States published in the same turn of the event loop (the agent publishes all of its units at
    // once) go out as one transaction: 100 units on a machine cost one round trip, not 100.
    return new Promise<void>((resolve, reject) => {
      this.pendingStates.push({ unit, value: encodeState(record), resolve, reject });
      if (this.pendingStates.length === 1) setImmediate(() => void this.flushStates(lease));
    });
  }

  private async flushStates(lease: LeaseKeeper): Promise<void> {
    const batch = this.pendingStates.splice(0);
    try {
      const leaseID = lease.id;
      for (let i = 0; i < batch.length; i += STATE_BATCH) {
        const chunk = batch.slice(i, i + STATE_BATCH);
        const first = chunk[0];
        if (!first) continue;
        // A compare that always holds: the transaction only carries several puts in one request.
        await this.etcd
          .if(unitStateKey(this.machineID, first.unit), 'Version', '>', -1)
          .then(
            ...chunk.map((p) =>
              this.etcd.put(unitStateKey(this.machineID, p.unit)).value(p.value).lease(leaseID),
            ),
          )
          .commit();
        for (const p of chunk) p.resolve();
      }
    } catch (err) {
      for (const p of batch) p.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  async deleteState(unit: string): Promise<void> {
    this.published.delete(unit);
    await this.etcd.delete().key(unitStateKey(this.machineID, unit));
  }

  async leave(): Promise<void> {
    const lease = this.lease;
    await this.close();
    this.published.clear();
    if (lease) await lease.revoke();
    this.opts.onLease?.('');
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.schedule.close();
    const lease = this.lease;
    this.lease = undefined;
    // stop() only stops keepalives; leave() revokes explicitly.
    lease?.stop();
  }
}
