// Cluster cron run records: one per tick of a scheduled unit (stored as `runs/<unit>/<tick ISO>`).

/**
 * scheduled: placed on a machine, not started yet; running; succeeded/failed: finished (failed also
 * covers a lost machine); missed: no leader at tick time (ScheduleMissed=skip); skipped: decided not
 * to run (overlap, no machine able to run it).
 */
export type RunStatus = 'scheduled' | 'running' | 'succeeded' | 'failed' | 'missed' | 'skipped';
export const RUN_STATUSES: readonly RunStatus[] = [
  'scheduled',
  'running',
  'succeeded',
  'failed',
  'missed',
  'skipped',
];

export interface RunRecord {
  readonly unit: string;
  /** ISO time of the tick (also the key's last segment). */
  readonly tick: string;
  readonly status: RunStatus;
  readonly machineID?: string;
  /** Run after its tick, because the tick passed while there was no leader (ScheduleMissed=run). */
  readonly late?: boolean;
  /** Why it was skipped/failed, in words. */
  readonly reason?: string;
  readonly startedAt?: string;
  readonly endedAt?: string;
  /** systemd's Result (success, exit-code, signal, timeout, ...). */
  readonly result?: string;
  /** systemd's ExecMainStatus. */
  readonly exitStatus?: number;
}

export const isActiveRun = (r: Pick<RunRecord, 'status'>): boolean =>
  r.status === 'scheduled' || r.status === 'running';

export const isFinishedRun = (r: Pick<RunRecord, 'status'>): boolean =>
  r.status === 'succeeded' || r.status === 'failed';
