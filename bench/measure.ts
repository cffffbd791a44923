// Measurements read from outside the measured code: etcd's own Prometheus counters and a process's
// CPU time from /proc, so the figures do not depend on what the measured code says about itself.
import { readFileSync } from 'node:fs';

export interface EtcdCounters {
  readonly puts: number;
  readonly txns: number;
  readonly ranges: number;
  readonly deletes: number;
}

/**
 * etcd 3.4 counts every put/range/delete (also those inside transactions) in etcd_mvcc_*_total, and
 * counts a transaction once more in etcd_mvcc_txn_total when it has more than one operation.
 */
export async function scrapeEtcd(metricsUrl: string): Promise<EtcdCounters> {
  const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`etcd metrics ${metricsUrl}: HTTP ${res.status}`);
  const text = await res.text();
  const value = (name: string): number => {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    if (!m?.[1]) throw new Error(`etcd metrics: ${name} missing (is this etcd 3.4?)`);
    return Number(m[1]);
  };
  return {
    puts: value('etcd_mvcc_put_total'),
    txns: value('etcd_mvcc_txn_total'),
    ranges: value('etcd_mvcc_range_total'),
    deletes: value('etcd_mvcc_delete_total'),
  };
}

export function diffCounters(after: EtcdCounters, before: EtcdCounters): EtcdCounters {
  return {
    puts: after.puts - before.puts,
    txns: after.txns - before.txns,
    ranges: after.ranges - before.ranges,
    deletes: after.deletes - before.deletes,
  };
}

/** User + system CPU seconds of a process so far (Linux /proc/<pid>/stat, fields 14 and 15). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100; // USER_HZ is 100 on Linux
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

export const seconds = (ms: number): number => Math.round(ms) / 1000;
