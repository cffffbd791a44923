// How the engine's schedule changes are cut into etcd transactions. etcd limits the compares and the
// operations of one transaction separately (--max-txn-ops). Each change is one operation and, when the
// writer checks the schedule as believed, one key compare; a change on a machine the plan saw absent
// adds one compare per distinct such machine in the transaction (that machine must still be absent).

export interface ChunkLimits {
  /** Most operations, and most compares, of one chunk (the leader compare is not counted here). */
  readonly perTxn: number;
  /** Every change carries a key compare. */
  readonly keyCompares: boolean;
  /** Whether the plan saw this machine absent. */
  readonly absent: (machineID: string) => boolean;
}

/**
 * Pure: the chunks, each within the limits (a chunk holds at least one change). A machine's changes
 * stay together in one chunk whenever they fit in one: its agent then sees them in one watch event
 * and starts them with one systemctl call, where changes cut in plan order reached each of three
 * machines in three waves. Changes keep their order within each machine.
 */
export function chunkChanges<C extends { readonly machineID: string }>(
  list: readonly C[],
  limits: ChunkLimits,
): C[][] {
  const byMachine = new Map<string, C[]>();
  for (const c of list) {
    const group = byMachine.get(c.machineID);
    if (group) group.push(c);
    else byMachine.set(c.machineID, [c]);
  }
  const keyCost = limits.keyCompares ? 1 : 0;
  const compareCost = (g: readonly C[], id: string) => keyCost * g.length + (limits.absent(id) ? 1 : 0);
  const out: C[][] = [];
  let chunk: C[] = [];
  let compares = 0;
  for (const [id, group] of byMachine) {
    const cost = compareCost(group, id);
    const fitsWhole = group.length <= limits.perTxn && cost <= limits.perTxn;
    if (chunk.length + group.length <= limits.perTxn && compares + cost <= limits.perTxn) {
      chunk.push(...group);
      compares += cost;
      continue;
    }
    if (chunk.length > 0) out.push(chunk);
    chunk = [];
    compares = 0;
    if (fitsWhole) {
      chunk = [...group];
      compares = cost;
      continue;
    }
    // More changes than one transaction holds: full chunks, the rest open for the next machines.
    const parts = packInOrder(group, limits);
    const last = parts.pop() ?? [];
    out.push(...parts);
    chunk = last;
    compares = compareCost(last, id);
  }
  if (chunk.length > 0) out.push(chunk);
  return out;
}

/** Consecutive chunks of `list`, in order, each within the limits. */
function packInOrder<C extends { readonly machineID: string }>(
  list: readonly C[],
  limits: ChunkLimits,
): C[][] {
  const keyCost = limits.keyCompares ? 1 : 0;
  const out: C[][] = [];
  let chunk: C[] = [];
  let compares = 0;
  let machines = new Set<string>();
  const costOf = (c: C): number =>
    keyCost + (limits.absent(c.machineID) && !machines.has(c.machineID) ? 1 : 0);
  for (const c of list) {
    if (chunk.length > 0 && (chunk.length >= limits.perTxn || compares + costOf(c) > limits.perTxn)) {
      out.push(chunk);
      chunk = [];
      compares = 0;
      machines = new Set();
    }
    compares += costOf(c);
    if (limits.absent(c.machineID)) machines.add(c.machineID);
    chunk.push(c);
  }
  if (chunk.length > 0) out.push(chunk);
  return out;
}
