// The agent's planner: pure. It compares what the engine scheduled to this machine (desired) with
// what is on disk and what this agent has done (current), and returns the tasks that close the gap,
// in fleet's order: unload < load < daemon-reload < stop < start (fleet agent/reconcile.go).

/** One unit scheduled to this machine. */
export interface DesiredUnit {
  readonly name: string;
  readonly hash: string;
  readonly desiredState: 'loaded' | 'launched';
  /** The unit has an [Install] section: fleet enables such units (runtime, force) after linking. */
  readonly hasInstall: boolean;
  /** Restart generation of the schedule record (agent/restart.ts); the planner ignores it. */
  readonly generation?: number;
}

/**
 * One unit this agent knows locally: its file in the units directory (hash of the contents) and what
 * this agent did with it in this run. After a restart every file starts out as 'inactive' (fleet
 * keeps this in memory only), so the planner re-loads it; re-loading a running unit does not stop it.
 */
export interface CurrentUnit {
  readonly name: string;
  /** Hash of the file on disk; undefined when the agent remembers the unit but its file is gone. */
  readonly hash: string | undefined;
  readonly state: 'inactive' | 'loaded' | 'launched';
}

export type AgentTask =
  | { readonly kind: 'unload'; readonly unit: string; readonly reason: string }
  | {
      readonly kind: 'load';
      readonly unit: string;
      readonly hash: string;
      /** Run `enable --runtime --force` after linking (unit has [Install]). */
      readonly enable: boolean;
      readonly reason: string;
    }
  | { readonly kind: 'daemon-reload'; readonly reason: string }
  | { readonly kind: 'stop'; readonly unit: string; readonly reason: string }
  | { readonly kind: 'start'; readonly unit: string; readonly reason: string };

export type AgentTaskKind = AgentTask['kind'];

/** fleet's task order; a stable sort keeps units in name order within one kind. */
export const TASK_ORDER: Readonly<Record<AgentTaskKind, number>> = {
  unload: 1,
  load: 2,
  'daemon-reload': 3,
  stop: 4,
  start: 5,
};

export function planAgent(desired: readonly DesiredUnit[], current: readonly CurrentUnit[]): AgentTask[] {
  const want = new Map(desired.map((d) => [d.name, d]));
  const have = new Map(current.map((c) => [c.name, c]));
  const names = [...new Set([...want.keys(), ...have.keys()])].sort();
  const tasks: AgentTask[] = [];

  const load = (d: DesiredUnit, reason: string) => {
    tasks.push({ kind: 'load', unit: d.name, hash: d.hash, enable: d.hasInstall, reason });
    if (d.desiredState === 'launched') tasks.push({ kind: 'start', unit: d.name, reason });
  };

  for (const name of names) {
    const d = want.get(name);
    const c = have.get(name);
    if (!d) {
      // c is defined: the name came from one of the two maps.
      const reason =
        c?.state === 'inactive'
          ? 'stale unit not scheduled to this machine'
          : 'unit no longer scheduled here';
      tasks.push({ kind: 'unload', unit: name, reason });
      continue;
    }
    if (!c || c.hash === undefined) {
      load(d, 'unit scheduled here but not loaded');
    } else if (c.hash !== d.hash) {
      tasks.push({ kind: 'unload', unit: name, reason: 'unit contents changed' });
      load(d, 'unit contents changed');
    } else if (c.state === 'inactive') {
      load(d, 'unit file present but not loaded by this agent');
    } else if (c.state === 'loaded' && d.desiredState === 'launched') {
      tasks.push({ kind: 'start', unit: name, reason: 'desired state launched' });
    } else if (c.state === 'launched' && d.desiredState === 'loaded') {
      tasks.push({ kind: 'stop', unit: name, reason: 'desired state loaded' });
    }
  }

  // One daemon-reload per batch, and only when unit files changed (systemd caches them).
  if (tasks.some((t) => t.kind === 'load' || t.kind === 'unload')) {
    tasks.push({ kind: 'daemon-reload', reason: 'unit files changed' });
  }
  return tasks
    .map((t, i) => ({ t, i }))
    .sort((a, b) => TASK_ORDER[a.t.kind] - TASK_ORDER[b.t.kind] || a.i - b.i)
    .map(({ t }) => t);
}

/** True when serialized unit text has an [Install] section (a section header on its own line). */
export function hasInstallSection(text: string): boolean {
  return /^[ \t]*\[Install\][ \t]*\r?$/m.test(text);
}

/** Short human form of a task for logs and tests: `load a.service`, `daemon-reload`. */
export function describeTask(t: AgentTask): string {
  return t.kind === 'daemon-reload' ? 'daemon-reload' : `${t.kind} ${t.unit}`;
}
