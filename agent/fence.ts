// Self-fencing: decides when an agent that cannot renew its lease must stop its units. The engine
// reschedules a machine's units once its lease expires (after agent_ttl), so the agent stops them
// a margin before that moment: a unit must never run on two machines. A shorter outage (etcd slow
// or briefly down) must never stop anything, so the threshold stays well above the keepalive
// interval (ttl/3).

/** Safety margin before the lease would expire: max(2 s, ttl/5). */
export const fenceMarginMs = (ttlMs: number): number => Math.max(2000, ttlMs / 5);

/**
 * How long without a successful keepalive the agent tolerates before fencing. Never below ttl/2, so
 * that with a tiny TTL one late keepalive (sent every ttl/3) does not fence.
 */
export const fenceThresholdMs = (ttlMs: number): number => Math.max(ttlMs - fenceMarginMs(ttlMs), ttlMs / 2);

/** True when the agent must stop its units now. `lastKeepaliveAt` 0 = never announced: nothing to fence. */
export function shouldFence(nowMs: number, lastKeepaliveAt: number, ttlMs: number): boolean {
  return lastKeepaliveAt > 0 && nowMs - lastKeepaliveAt > fenceThresholdMs(ttlMs);
}
