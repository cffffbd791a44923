// Runs one session per leadership term: a new session when this machine is elected (ending the
// previous one), none while it is not the leader. The engine and cluster cron both follow the leader
// this way.

import type { LeaderElection } from './leader.js';
import type { LeaderGuard } from './store.js';

/** What exists only while this machine leads. */
export interface LeaderTermSession {
  /** Ends the term's work; the follower does not wait for it on a change of leader, only on stop(). */
  end(): Promise<void>;
}

export interface LeadershipHooks<S extends LeaderTermSession> {
  /** Starts the session of a new term (guarded by `guard`). */
  start(guard: LeaderGuard): S;
  /** Called when leadership is lost, before the session ends (null when there was none). */
  deposed?(reason: string, session: S | null): void;
  /** etcd answered again after an outage while leading. */
  reconnected?(session: S): void;
}

export interface LeadershipFollower {
  /** Stops following and ends the current session. */
  stop(): Promise<void>;
}

export function followLeadership<S extends LeaderTermSession>(
  leader: LeaderElection,
  hooks: LeadershipHooks<S>,
): LeadershipFollower {
  let session: S | null = null;
  let stopped = false;
  const onElected = (guard: LeaderGuard) => {
    if (stopped) return;
    void session?.end();
    session = hooks.start(guard);
  };
  const onDeposed = (reason: string) => {
    hooks.deposed?.(reason, session);
    void session?.end();
    session = null;
  };
  const onReconnected = () => {
    if (session) hooks.reconnected?.(session);
  };
  leader.on('elected', onElected);
  leader.on('deposed', onDeposed);
  leader.on('reconnected', onReconnected);
  const current = leader.guard();
  if (current) onElected(current);
  return {
    async stop() {
      stopped = true;
      leader.off('elected', onElected);
      leader.off('deposed', onDeposed);
      leader.off('reconnected', onReconnected);
      const s = session;
      session = null;
      if (s) await s.end();
    },
  };
}
