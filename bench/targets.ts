// Issue 16's targets, one row per figure: the figure, its target, and OK / MISSED / NOT MEASURED (with
// the flag that measures it). Printed at the end of every `npm run bench` and stored in the JSON as
// `target_<key>` = 1 (OK), 0 (MISSED) or -1 (not measured), so no figure silently goes missing.

interface Target {
  readonly key: string;
  readonly label: string;
  readonly goal: string;
  readonly ok: (x: number, out: Readonly<Record<string, number>>) => boolean;
  /** How to get the figure when this run did not measure it. */
  readonly measuredBy: string;
  /** The label names the size the run used (scale_100k_units / _machines) when it differs. */
  readonly sized?: boolean;
  /** Whether this run's figure is the target's at all (its size); not measured when not. */
  readonly applies?: (out: Readonly<Record<string, number>>) => boolean;
}

/** A figure that must stay at or under `limit` (in `unit`): the goal's text and its check share the number. */
function atMost(key: string, label: string, limit: number, unit: string, measuredBy: string): Target {
  return { key, label, goal: `≤ ${limit}${unit}`, ok: (x) => x <= limit, measuredBy };
}

/** A figure that has no target: it only has to be measured. */
function measured(key: string, label: string, measuredBy: string): Target {
  return { key, label, goal: 'measured', ok: (x) => Number.isFinite(x), measuredBy };
}

const TARGETS: readonly Target[] = [
  {
    key: 'real_all_active_s',
    label: 'real systemd: start → all 300 active',
    goal: '≤ 1.5 s and ≤ 1.5 × systemctl floor',
    ok: (x, o) => x <= 1.5 && x <= 1.5 * (o.real_systemctl_floor_s ?? 0),
    measuredBy: '--real',
  },
  atMost('real_destroy_gone_s', 'real systemd: destroy → gone', 2, ' s', '--real'),
  atMost('real_start_cmd_s', 'fleetctl start --no-block of 300', 0.3, ' s', '--real'),
  atMost('real_list_units_s', 'fleetctl list-units at 300', 0.1, ' s', '--real'),
  atMost('list_units_s', 'fleetctl list-units at 10k', 0.3, ' s', 'the simulated run'),
  atMost('real_version_s', 'fleetctl version (installed bundle)', 0.06, ' s', '--real'),
  {
    key: 'placements_per_s',
    label: 'placements/s (10k on 100, etcd --max-txn-ops 128)',
    goal: '≥ 5000/s at etcd default',
    ok: (x, o) => x >= 5000 && o.etcd_max_txn_ops === 128,
    measuredBy: 'the simulated run',
  },
  {
    key: 'all_active_s',
    label: '10k units / 100 agents: submit → all active',
    goal: '≤ 5 s',
    ok: (x) => x <= 5,
    applies: (o) => o.units === 10_000 && o.machines === 100,
    measuredBy: 'the simulated run at 10k units / 100 agents',
  },
  { ...measured('scale_100k_s', 'curve: 100k units / 1,000 agents → all active', '--100k'), sized: true },
  atMost('scale_100k_engine_peak_rss_mib', '  … engine peak RSS (MiB)', 1024, ' MiB', '--100k'),
  measured('scale_100k_agent_peak_rss_mib', '  … one agent (own process) peak RSS (MiB)', '--100k'),
  atMost('scale_50k_over_1k', 'curve: t(50k) / t(1k) (item 4)', 60, '', 'the simulated run with its curve'),
  {
    key: 'max_foreign_watch_events',
    label: 'foreign watch events per agent (item 4)',
    goal: '= 0',
    ok: (x, o) => x === 0 && (o.scale_100k_max_foreign_watch_events ?? 0) === 0,
    measuredBy: 'the simulated run',
  },
];

/**
 * Prints the targets table and adds `target_<key>` (1 OK, 0 MISSED, -1 not measured, -2 the step that
 * measures it failed) to `out`. `failed` maps a step's flag (a target's measuredBy) to why it failed.
 */
export function printTargets(
  out: Record<string, number>,
  failed: ReadonlyMap<string, string> = new Map(),
): void {
  const rows = TARGETS.map((t) => {
    const x = out[t.key];
    const has = x !== undefined && Number.isFinite(x);
    const measured = has && (t.applies?.(out) ?? true);
    const ok = measured && t.ok(x, out);
    const failure = measured ? undefined : failed.get(t.measuredBy);
    out[`target_${t.key}`] = measured ? (ok ? 1 : 0) : failure !== undefined ? -2 : -1;
    const verdict = measured
      ? ok
        ? 'OK'
        : 'MISSED'
      : failure !== undefined
        ? `FAILED (${t.measuredBy} ran and failed: ${failure})`
        : `NOT MEASURED (run with ${t.measuredBy})`;
    const u = out.scale_100k_units;
    const m = out.scale_100k_machines;
    const label =
      t.sized && u !== undefined && (u !== 100_000 || m !== 1000)
        ? `curve: ${u} units / ${m} agents → all active (not the 100k size)`
        : t.measuredBy.startsWith('the simulated run') && out.units !== undefined && out.units !== 10_000
          ? `${t.label} (this run: ${out.units} units / ${out.machines} agents)`
          : t.label;
    return [label, has ? String(x) : '–', t.goal, verdict] as const;
  });
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
  console.log('\nissue 16 targets');
  for (const r of rows)
    console.log(`${r[0].padEnd(w[0] ?? 0)}  ${r[1].padEnd(w[1] ?? 0)}  ${r[2].padEnd(w[2] ?? 0)}  ${r[3]}`);
}
