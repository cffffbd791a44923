// When an agent that cannot reach etcd stops units. Ordinary units: never (availability first).
// StopOnDisconnect units: a margin before the lease could expire, counted on a monotonic clock.
// Design notes: docs/architecture.md, "agent/fence.ts".

/** Safety margin before the lease could expire: max(2 s, ttl/5). */
export const fenceMarginMs = (ttlMs: number): number => Math.max(2000, ttlMs / 5);

/**
 * How long after the last proof the agent waits before stopping StopOnDisconnect units. Never below
 * ttl/2, so that with a tiny TTL one late keepalive (sent every ttl/3) does not stop anything.
 */
export const fenceThresholdMs = (ttlMs: number): number => Math.max(ttlMs - fenceMarginMs(ttlMs), ttlMs / 2);

/**
 * True when StopOnDisconnect units must be stopped now. `lastProof`: monotonic send time of the newest
 * acknowledged keepalive (0 = never announced: nothing to fence). `now` on the same clock.
 */
export function shouldFence(now: number, lastProof: number, ttlMs: number): boolean {
  return lastProof > 0 && now - lastProof > fenceThresholdMs(ttlMs);
}
