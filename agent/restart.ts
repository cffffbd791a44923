// Restart generations (fleetctl restart, registry/restart.ts), on the agent side: pure. A unit running
// before this reconcile and left alone by it is restarted when its scheduled generation grows; anything
// else only takes the generation as its baseline.
// Design notes: docs/architecture.md, "agent/restart.ts".

export interface RestartInput {
  readonly unit: string;
  /** The schedule record's restart generation (absent = 0). */
  readonly generation: number;
  /** Launched by this agent before this reconcile, and no task of this reconcile touches it. */
  readonly running: boolean;
}

export interface RestartPlan {
  /** Units to `systemctl restart`, in input order. */
  readonly restart: readonly string[];
  /** The applied generations afterwards: exactly the units given. */
  readonly applied: ReadonlyMap<string, number>;
}

export function planRestarts(
  units: readonly RestartInput[],
  applied: ReadonlyMap<string, number>,
): RestartPlan {
  const restart: string[] = [];
  const next = new Map<string, number>();
  for (const u of units) {
    const before = applied.get(u.unit);
    if (u.running && before !== undefined && u.generation > before) restart.push(u.unit);
    next.set(u.unit, u.generation);
  }
  return { restart, applied: next };
}

/** What `RestartGenerations.apply` reads: the scheduled units it may restart and this reconcile. */
export interface RestartRound {
  /** Scheduled units with their desired state and generation (skipped/refused units left out). */
  readonly desired: readonly { name: string; desiredState: 'loaded' | 'launched'; generation?: number }[];
  /** Units launched by this agent before this reconcile's tasks ran. */
  readonly launchedBefore: ReadonlySet<string>;
  /** Units some task of this reconcile touched (load, unload, stop, start). */
  readonly touched: ReadonlySet<string>;
  /** Whether the unit is launched now (after the tasks). */
  readonly launchedNow: (unit: string) => boolean;
  /**
   * Units whose file was already in place with the scheduled contents but not loaded by this agent: a
   * restarted fleetd re-adopting them (the start it issues is a no-op for a running unit).
   */
  readonly readopted?: ReadonlySet<string>;
}

/** Where applied generations survive a fleetd restart (agent/restart-file.ts). */
export interface RestartMemory {
  load(): ReadonlyMap<string, number>;
  save(applied: ReadonlyMap<string, number>): void;
}

export interface RestartDeps {
  readonly restartUnit: (unit: string) => Promise<void>;
  readonly onRestarted: (unit: string, generation: number) => void;
  readonly onFailed: (unit: string, generation: number, err: unknown) => void;
}

/** The agent's memory of applied generations, and the I/O around planRestarts. */
export class RestartGenerations {
  private applied: ReadonlyMap<string, number>;

  constructor(private readonly memory?: RestartMemory) {
    this.applied = memory?.load() ?? new Map();
  }

  /** The generation applied to `unit` (0 when none), published in its state record. */
  generationOf(unit: string): number {
    return this.applied.get(unit) ?? 0;
  }

  /** Restarts what planRestarts says; returns how many restarts were issued. */
  async apply(round: RestartRound, deps: RestartDeps): Promise<number> {
    const plan = planRestarts(
      round.desired.map((d) => ({
        unit: d.name,
        generation: d.generation ?? 0,
        running:
          d.desiredState === 'launched' &&
          round.launchedNow(d.name) &&
          ((round.launchedBefore.has(d.name) && !round.touched.has(d.name)) ||
            (round.readopted?.has(d.name) ?? false)),
      })),
      this.applied,
    );
    const changed =
      plan.applied.size !== this.applied.size ||
      [...plan.applied].some(([u, g]) => this.applied.get(u) !== g);
    this.applied = plan.applied;
    if (changed) this.memory?.save(this.applied);
    for (const unit of plan.restart) {
      const generation = this.generationOf(unit);
      try {
        await deps.restartUnit(unit);
        deps.onRestarted(unit, generation);
      } catch (err) {
        // Not retried: a restart that systemd refused would be refused again; the operator sees the error.
        deps.onFailed(unit, generation, err);
      }
    }
    return plan.restart.length;
  }
}
