// An in-memory systemd for tests and the benchmark (100 simulated agents): units become active/running
// at once on start, every call is recorded, and a unit can be told to fail. Kept cheap on purpose.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../units/common.js';
import type { SystemdState } from '../../units/types.js';
import { type SystemdDriver, type SystemdRunResult, UNKNOWN_UNIT_STATE } from './driver.js';

/** A unit that behaves like a oneshot: activating for `durationMs`, then exits with `exitStatus`. */
export interface FakeOneshot {
  readonly durationMs: number;
  readonly exitStatus?: number;
}

export type FakeSystemdCall =
  | { readonly op: 'daemonReload' }
  | {
      readonly op:
        | 'enableUnit'
        | 'disableUnit'
        | 'startUnit'
        | 'stopUnit'
        | 'resetFailed'
        | 'restartUnit'
        | 'killUnit';
      readonly name: string;
    }
  | {
      readonly op: 'startUnits' | 'stopUnits' | 'disableUnits' | 'resetFailedUnits';
      readonly names: readonly string[];
    };

/** How a unit told to fail behaves: its start "succeeds" but it ends up failed (as systemctl does). */
export type FakeFailure = 'fails-on-start' | 'start-throws';

export class InMemorySystemd implements SystemdDriver {
  readonly calls: FakeSystemdCall[] = [];
  /** Names that systemd "knows" (a linked unit file), set by the test or by `knowUnit`. */
  private readonly known = new Set<string>();
  private readonly active = new Map<string, SystemdState>();
  private readonly failures = new Map<string, FakeFailure>();
  private readonly record: boolean;
  private readonly systemdDir: string | undefined;
  private readonly oneshots = new Map<string, FakeOneshot>();
  private readonly runs = new Map<string, SystemdRunResult>();
  private readonly runTimers = new Map<string, NodeJS.Timeout>();

  /**
   * record=false: calls are not recorded (benchmark mode). systemdDir: a unit whose file exists there
   * (a link into the units directory counts) reports `loaded`, as systemd would after a daemon-reload.
   */
  constructor(opts: { record?: boolean; systemdDir?: string } = {}) {
    this.record = opts.record ?? true;
    this.systemdDir = opts.systemdDir;
  }

  /** Marks a unit as loadable (its file is linked). Units not known still start (systemd autoloads). */
  knowUnit(name: string): void {
    this.known.add(name);
  }

  forgetUnit(name: string): void {
    this.known.delete(name);
  }

  /** Makes `name` run like a oneshot on every start (see FakeOneshot). */
  oneshot(name: string, behaviour: FakeOneshot): void {
    this.oneshots.set(name, behaviour);
  }

  /** Starts of oneshot runs so far, per unit (for "ran exactly once per tick" assertions). */
  readonly oneshotStarts = new Map<string, number>();

  async runStatus(name: string): Promise<SystemdRunResult> {
    const run = this.runs.get(name);
    if (run) return { ...run, active: this.active.get(name)?.active ?? 'inactive' };
    return {
      active: this.active.get(name)?.active ?? 'inactive',
      result: 'success',
      execMainStatus: null,
      startedAt: null,
      exitedAt: null,
    };
  }

  private startOneshot(name: string, b: FakeOneshot): void {
    const startedAt = Date.now();
    this.oneshotStarts.set(name, (this.oneshotStarts.get(name) ?? 0) + 1);
    this.active.set(name, { load: 'loaded', active: 'activating', sub: 'start' });
    this.runs.set(name, {
      active: 'activating',
      result: 'success',
      execMainStatus: null,
      startedAt,
      exitedAt: null,
    });
    clearTimeout(this.runTimers.get(name));
    const timer = setTimeout(() => {
      this.runTimers.delete(name);
      const code = b.exitStatus ?? 0;
      this.active.set(
        name,
        code === 0
          ? { load: 'loaded', active: 'inactive', sub: 'dead' }
          : { load: 'loaded', active: 'failed', sub: 'failed' },
      );
      this.runs.set(name, {
        active: code === 0 ? 'inactive' : 'failed',
        result: code === 0 ? 'success' : 'exit-code',
        execMainStatus: code,
        startedAt,
        exitedAt: Date.now(),
      });
    }, b.durationMs);
    timer.unref();
    this.runTimers.set(name, timer);
  }

  failUnit(name: string, how: FakeFailure = 'fails-on-start'): void {
    this.failures.set(name, how);
  }

  /** Undoes failUnit. */
  healUnit(name: string): void {
    this.failures.delete(name);
  }

  /** Unset: the agent always reloads, as with an old systemd. Tests set it to model a newer one. */
  reloadNeededFor?: (names: readonly string[]) => Promise<boolean>;

  /** Names currently active (running). */
  running(): string[] {
    return [...this.active.entries()]
      .filter(([, s]) => s.active === 'active')
      .map(([n]) => n)
      .sort();
  }

  isRunning(name: string): boolean {
    return this.active.get(name)?.active === 'active';
  }

  /** Its processes exist: running, or still stopping. */
  isAlive(name: string): boolean {
    const a = this.active.get(name)?.active;
    return a === 'active' || a === 'deactivating';
  }

  private log(call: FakeSystemdCall): void {
    if (this.record) this.calls.push(call);
  }

  async daemonReload(): Promise<void> {
    this.log({ op: 'daemonReload' });
  }

  async enableUnit(name: string): Promise<void> {
    this.log({ op: 'enableUnit', name });
  }

  async disableUnit(name: string): Promise<void> {
    this.log({ op: 'disableUnit', name });
  }

  async startUnit(name: string): Promise<void> {
    this.log({ op: 'startUnit', name });
    this.start(name);
  }

  /** Like systemctl: every name is started; the call rejects if any of them failed. */
  async startUnits(names: readonly string[]): Promise<void> {
    this.log({ op: 'startUnits', names: [...names] });
    const errors: string[] = [];
    for (const name of names) {
      try {
        this.start(name);
      } catch (err) {
        errors.push(errorMessage(err));
      }
    }
    if (errors.length > 0) throw new Error(errors.join('; '));
  }

  async stopUnits(names: readonly string[]): Promise<void> {
    this.log({ op: 'stopUnits', names: [...names] });
    await Promise.all(names.map((name) => this.stopSlowly(name)));
  }

  private readonly stopDelays = new Map<string, number>();

  /** Makes every stop of `name` take `ms` (deactivating meanwhile), like a slow ExecStop. */
  slowStop(name: string, ms: number): void {
    this.stopDelays.set(name, ms);
  }

  private async stopSlowly(name: string): Promise<void> {
    const delay = this.stopDelays.get(name);
    if (delay && this.active.get(name)?.active === 'active') {
      this.active.set(name, { load: 'loaded', active: 'deactivating', sub: 'stop-sigterm' });
      await new Promise((r) => setTimeout(r, delay));
      if (this.active.get(name)?.active !== 'deactivating') return; // killed meanwhile
    }
    this.stop(name);
  }

  private start(name: string): void {
    const failure = this.failures.get(name);
    if (failure === 'start-throws') throw new Error(`Failed to start ${name}: simulated failure`);
    const oneshot = this.oneshots.get(name);
    if (oneshot) {
      // systemd: starting a oneshot that is already activating joins the running job.
      if (this.active.get(name)?.active !== 'activating') this.startOneshot(name, oneshot);
      return;
    }
    this.active.set(
      name,
      failure === 'fails-on-start'
        ? { load: 'loaded', active: 'failed', sub: 'failed' }
        : { load: 'loaded', active: 'active', sub: 'running' },
    );
  }

  async stopUnit(name: string): Promise<void> {
    this.log({ op: 'stopUnit', name });
    await this.stopSlowly(name);
  }

  private stop(name: string): void {
    clearTimeout(this.runTimers.get(name));
    this.runTimers.delete(name);
    if (this.active.get(name)?.active !== 'failed') this.active.delete(name);
  }

  /** Restarts (counted in `restarts`): stop, then start. */
  async restartUnit(name: string): Promise<void> {
    this.log({ op: 'restartUnit', name });
    this.stop(name);
    this.start(name);
    this.restarts.set(name, (this.restarts.get(name) ?? 0) + 1);
  }

  readonly restarts = new Map<string, number>();

  async killUnit(name: string): Promise<void> {
    this.log({ op: 'killUnit', name });
    this.stop(name);
  }

  async resetFailed(name: string): Promise<void> {
    this.log({ op: 'resetFailed', name });
    if (this.active.get(name)?.active === 'failed') this.active.delete(name);
  }

  async disableUnits(names: readonly string[]): Promise<void> {
    this.log({ op: 'disableUnits', names: [...names] });
  }

  async resetFailedUnits(names: readonly string[]): Promise<void> {
    this.log({ op: 'resetFailedUnits', names: [...names] });
    for (const name of names) if (this.active.get(name)?.active === 'failed') this.active.delete(name);
  }

  async unitStates(names: readonly string[]): Promise<Map<string, SystemdState>> {
    const out = new Map<string, SystemdState>();
    for (const name of names) {
      const s = this.active.get(name);
      if (s) out.set(name, s);
      else if (this.known.has(name) || (this.systemdDir && existsSync(join(this.systemdDir, name))))
        out.set(name, { load: 'loaded', active: 'inactive', sub: 'dead' });
      else out.set(name, UNKNOWN_UNIT_STATE);
    }
    return out;
  }

  /** Calls recorded so far as short strings (`startUnit a.service`), for readable assertions. */
  callLog(): string[] {
    return this.calls.map((c) =>
      c.op === 'daemonReload'
        ? 'daemonReload'
        : 'names' in c
          ? `${c.op} ${c.names.join(' ')}`
          : `${c.op} ${c.name}`,
    );
  }

  clearCalls(): void {
    this.calls.length = 0;
  }
}
