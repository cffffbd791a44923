// The agent's view of its own schedule (`schedule/<machineID>/` and nothing else: an agent must never
// be woken by another machine's placements): a range read, then the resumable watch from its revision.

import type { Namespace } from 'etcd3';
import type { ScheduleHandler } from '../agent/store.js';
import { metrics } from '../metrics/metrics.js';
import { errorMessage } from '../units/common.js';
import type { Logger } from '../units/log.js';
import type { ScheduleRecord } from '../units/types.js';
import { machineSchedulePrefix, SCHEDULE_PREFIX, splitMachineUnitKey } from './keys.js';
import { decodeSchedule } from './records.js';
import { prefixRange, type ResumableWatch, watchRange } from './resumable-watch.js';

export class ScheduleFollower {
  private readonly schedule = new Map<string, ScheduleRecord>();
  private handler: ScheduleHandler | undefined;
  private watcher: ResumableWatch | undefined;
  private closed = false;
  /** Watch events received for keys outside this machine's schedule (the benchmark checks it stays 0). */
  foreignEvents = 0;

  /** `onCancelled`: the watch cannot resume; the owner reads everything again (resync) when it can. */
  constructor(
    private readonly etcd: Namespace,
    private readonly machineID: string,
    private readonly log: Logger | undefined,
    private readonly onCancelled: () => void,
  ) {}

  setHandler(handler: ScheduleHandler): void {
    this.handler = handler;
  }

  /** Reads the whole schedule, watches from there, and calls the handler with every name that changed. */
  async resync(): Promise<void> {
    const res = await this.etcd.getAll().prefix(machineSchedulePrefix(this.machineID)).exec();
    const fresh = new Map<string, ScheduleRecord>();
    for (const kv of res.kvs) this.applyKv(fresh, kv.key.toString(), kv.value.toString());
    const changed = new Set<string>([...this.schedule.keys(), ...fresh.keys()]);
    this.schedule.clear();
    for (const [k, v] of fresh) this.schedule.set(k, v);
    await this.startWatch(BigInt(res.header.revision));
    this.handler?.(this.schedule, [...changed].sort());
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.watcher;
    this.watcher = undefined;
    await w?.cancel();
  }

  private applyKv(into: Map<string, ScheduleRecord>, key: string, value: string): string | null {
    const parts = splitMachineUnitKey(SCHEDULE_PREFIX, key);
    // Our watch covers only our prefix; this check keeps a foreign key out whatever etcd sends.
    if (!parts || parts.machineID !== this.machineID) return null;
    let rec: ScheduleRecord;
    try {
      rec = decodeSchedule(key, value);
    } catch (err) {
      this.log?.error(
        { machine: this.machineID, unit: parts.unit, err: errorMessage(err) },
        'ignoring malformed schedule record',
      );
      into.delete(parts.unit);
      return parts.unit;
    }
    into.set(parts.unit, rec);
    return parts.unit;
  }

  /** Watches this machine's schedule after revision `after`. */
  private async startWatch(after: bigint): Promise<void> {
    const old = this.watcher;
    this.watcher = undefined;
    await old?.cancel();
    if (this.closed) return;
    const watch = watchRange(this.etcd, prefixRange(machineSchedulePrefix(this.machineID)), after, {
      onEvents: (res) => {
        if (this.watcher !== watch) return;
        const changed: string[] = [];
        for (const ev of res.events) {
          const key = ev.kv.key.toString();
          if (splitMachineUnitKey(SCHEDULE_PREFIX, key)?.machineID !== this.machineID) this.foreignEvents++;
          if (ev.type === 'Put') {
            const unit = this.applyKv(this.schedule, key, ev.kv.value.toString());
            if (unit) changed.push(unit);
          } else {
            const parts = splitMachineUnitKey(SCHEDULE_PREFIX, key);
            if (parts && parts.machineID === this.machineID) {
              this.schedule.delete(parts.unit);
              changed.push(parts.unit);
            }
          }
        }
        if (changed.length > 0) this.handler?.(this.schedule, changed);
      },
      // A cancelled watch (e.g. the revision was compacted) cannot resume: read everything again.
      onCancelled: (err) => {
        if (this.watcher !== watch || this.closed) return;
        this.log?.warn(
          { machine: this.machineID, err: errorMessage(err) },
          'schedule watch failed; resyncing',
        );
        metrics.watchRestarts.inc({ watcher: 'agent' });
        this.onCancelled();
      },
    });
    this.watcher = watch;
  }
}
