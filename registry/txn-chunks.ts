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

/** Pure: consecutive chunks, in order, each within the limits (a chunk holds at least one change). */
export function chunkChanges<C extends { readonly machineID: string }>(
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
