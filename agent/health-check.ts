// Runs the [X-Fleet] HealthCheck= of the units this agent runs (units/health-check.ts) and keeps the
// latest result per unit for the state publication. A check runs only while systemd reports the unit
// active; every new activation or new contents starts over at `pending`, so a result always belongs
// to what runs now. Checks never overlap for one unit and are bounded by their timeout (the whole
// process group is killed), so a hung check cannot pile up processes or stall the agent.
import { spawn } from 'node:child_process';
import { type HealthCheckSpec, type HealthReport, healthCheckOf } from '../units/health-check.js';
import type { Logger } from '../units/log.js';
import { parseUnitFile } from '../units/parse.js';
import { expandSpecifiers } from '../units/specifiers.js';

export interface HealthCheckResult {
  readonly ok: boolean;
  /** One line, for a failed check. */
  readonly detail: string;
}

/** Runs one check command; the default runs `/bin/sh -c COMMAND` on this host. */
export type HealthCheckRunner = (command: string, timeoutMs: number) => Promise<HealthCheckResult>;

const OUTPUT_LIMIT = 4096;
const DETAIL_LIMIT = 200;

/** The last non-empty output line, shortened: what an operator needs to see why a check failed. */
function lastLine(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const line = lines[lines.length - 1] ?? '';
  return line.length > DETAIL_LIMIT ? `${line.slice(0, DETAIL_LIMIT)}…` : line;
}

export const shellHealthCheck: HealthCheckRunner = (command, timeoutMs) =>
  new Promise((resolve) => {
    let output = '';
    let timedOut = false;
    const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-OUTPUT_LIMIT);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: `cannot run: ${err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) return resolve({ ok: false, detail: `timed out after ${timeoutMs / 1000} s` });
      if (code === 0) return resolve({ ok: true, detail: '' });
      const why = code !== null ? `exit ${code}` : `killed by ${signal}`;
      const line = lastLine(output);
      resolve({ ok: false, detail: line ? `${why}: ${line}` : why });
    });
  });

interface Tracker {
  readonly hash: string;
  readonly spec: HealthCheckSpec;
  report: HealthReport;
  timer: NodeJS.Timeout | undefined;
  cancelled: boolean;
}

export interface HealthChecksOptions {
  readonly machineID: string;
  readonly unitText: (hash: string) => Promise<string | null>;
  /** Called when a unit's result changed (the agent publishes states soon after). */
  readonly onChange: () => void;
  readonly log: Logger;
  readonly run?: HealthCheckRunner;
}

export class HealthChecks {
  private readonly specs = new Map<string, HealthCheckSpec | null>();
  private readonly trackers = new Map<string, Tracker>();
  private readonly run: HealthCheckRunner;
  private stopped = false;

  constructor(private readonly opts: HealthChecksOptions) {
    this.run = opts.run ?? shellHealthCheck;
  }

  private async specOf(hash: string): Promise<HealthCheckSpec | null> {
    const known = this.specs.get(hash);
    if (known !== undefined) return known;
    const text = await this.opts.unitText(hash);
    let spec: HealthCheckSpec | null = null;
    try {
      spec = text === null ? null : (healthCheckOf(parseUnitFile(text)) ?? null);
    } catch {
      spec = null;
    }
    if (text !== null) this.specs.set(hash, spec);
    return spec;
  }

  /** The `health` field of a unit's state record (none when the unit declares no check). */
  async fieldFor(unit: string, hash: string, active: string): Promise<{ health?: HealthReport }> {
    const spec = await this.specOf(hash);
    let t = this.trackers.get(unit);
    if (!spec || this.stopped) {
      if (t) this.cancel(unit, t);
      return {};
    }
    if (active !== 'active') {
      if (t) this.cancel(unit, t);
      return { health: { status: 'pending' } };
    }
    if (!t || t.hash !== hash) {
      if (t) this.cancel(unit, t);
      t = { hash, spec, report: { status: 'pending' }, timer: undefined, cancelled: false };
      this.trackers.set(unit, t);
      this.check(unit, t);
    }
    return { health: t.report };
  }

  /** Forgets units the agent no longer runs. */
  retain(units: Iterable<string>): void {
    const keep = new Set(units);
    for (const [unit, t] of this.trackers) if (!keep.has(unit)) this.cancel(unit, t);
  }

  stop(): void {
    this.stopped = true;
    for (const [unit, t] of this.trackers) this.cancel(unit, t);
  }

  private cancel(unit: string, t: Tracker): void {
    t.cancelled = true;
    if (t.timer) clearTimeout(t.timer);
    if (this.trackers.get(unit) === t) this.trackers.delete(unit);
  }

  private check(unit: string, t: Tracker): void {
    const command = expandSpecifiers(t.spec.command, unit);
    void this.run(command, t.spec.timeoutMs)
      .catch((err: unknown): HealthCheckResult => ({ ok: false, detail: `cannot run: ${String(err)}` }))
      .then((r) => {
        if (t.cancelled) return;
        const report: HealthReport = r.ok ? { status: 'healthy' } : { status: 'unhealthy', detail: r.detail };
        if (report.status !== t.report.status || report.detail !== t.report.detail) {
          const { machineID, log } = this.opts;
          const msg = r.ok
            ? `${unit} is healthy on ${machineID}`
            : `${unit} health check failed on ${machineID}: ${r.detail}`;
          (r.ok ? log.info : log.warn).call(log, { machine: machineID, unit, health: report.status }, msg);
          t.report = report;
          this.opts.onChange();
        }
        t.timer = setTimeout(() => this.check(unit, t), t.spec.intervalMs);
      });
  }
}
