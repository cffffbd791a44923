// The simulated run's figures as a table (bench/run.ts), each with its target where it has one.

export function printTable(out: Record<string, number>, loadBefore: string, loadAfter: string): void {
  const rows: [string, string, string][] = [];
  const v = (k: string) => out[k];
  const target = (ok: boolean | undefined, text: string) =>
    ok === undefined ? text : `${text} ${ok ? 'OK' : 'MISSED'}`;
  const num = (k: string) => out[k];
  const row = (label: string, key: string, unit: string, check?: (x: number) => boolean, goal = '') => {
    const x = num(key);
    if (x === undefined) return;
    rows.push([label, `${x} ${unit}`.trim(), goal ? target(check?.(x), goal) : '']);
  };
  const raw = v('raw_put_per_s') ?? 0;
  row('raw etcd put (16 in flight)', 'raw_put_per_s', '/s');
  row('raw etcd txn (16 in flight)', 'raw_txn_per_s', '/s');
  row('units / machines', 'units', `/ ${v('machines')}`);
  row('submit (batched txns)', 'submit_s', 's');
  row(
    'placements committed',
    'placements_per_s',
    '/s',
    (x) => x >= 5000 && x >= 0.5 * raw,
    '≥ 5000 and ≥ 0.5 × raw put',
  );
  row('submit → all active', 'all_active_s', 's', (x) => x <= 5, '≤ 5 s at 10k');
  row('etcd ops (put+range+delete) / unit', 'etcd_ops_per_unit', '');
  row('etcd txns / unit', 'etcd_txns_per_unit', '');
  row('engine CPU', 'engine_cpu_s', 's');
  row('max foreign watch events', 'max_foreign_watch_events', '', (x) => x === 0, '= 0');
  row('fleetctl list-units (bundle)', 'list_units_s', 's', (x) => x <= 0.3, '≤ 0.3 s at 10k');
  row('fleetctl list-unit-files (bundle)', 'list_unit_files_s', 's');
  row('fleetctl version (bundle)', 'fleetctl_startup_s', 's', (x) => x <= 0.06, '≤ 0.06 s');
  row('  … list-units from dist/', 'list_units_dist_s', 's');
  row('  … version from dist/', 'fleetctl_startup_dist_s', 's');
  row('list-units in process (no start-up)', 'list_units_in_process_s', 's');
  row('list-unit-files in process', 'list_unit_files_in_process_s', 's');
  row('machine loss → active elsewhere', 'machine_loss_reschedule_s', `s (TTL ${v('agent_ttl_s')} s)`);
  row('leader SIGKILL → next placement', 'leader_failover_s', `s (lease ${v('engine_lease_ttl_s')} s)`);
  for (const l of ['1k', '10k', '50k'])
    row(`curve: ${v(`scale_${l}_units`)} units / ${v('machines')}`, `scale_${l}_s`, 's');
  row('curve: time at 50k / time at 1k', 'scale_50k_over_1k', '×', (x) => x <= 60, '≤ 60');
  for (const l of ['m10', 'm100', 'm1000'])
    row(`curve: ${v('scale_machines_units')} units / ${v(`scale_${l}_machines`)}`, `scale_${l}_s`, 's');
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log(`fleet-ts benchmark (load average before: ${loadBefore}, after: ${loadAfter})`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`.trimEnd());
}
