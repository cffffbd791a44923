// The agent's state reports: `state/<machine>/<unit>` written when systemd's state of a loaded unit
// changes, deleted when the unit is no longer loaded here.

import { errorMessage } from '../units/common.js';
import type { Logger } from '../units/log.js';
import type { SystemdState } from '../units/types.js';
import type { LoadedUnit } from './execute.js';
import type { AgentStateRecord, AgentStore } from './store.js';
import type { SystemdDriver } from './systemd/driver.js';

/** States a unit passes through on its way to active/failed/inactive. */
const SETTLING = new Set(['activating', 'deactivating', 'reloading']);

export interface StatePublisher {
  /** Publishes changed states; returns how many units are still settling (activating, ...). */
  publish(): Promise<number>;
  /**
   * Publish everything again (a new lease). The new lease carried the store's last published states,
   * which may be stale: the names are kept so that those no longer loaded get deleted, not forgotten.
   */
  republishAll(): void;
}

export function createStatePublisher(opts: {
  readonly machineID: string;
  readonly store: Pick<AgentStore, 'publishState' | 'deleteState'>;
  readonly driver: SystemdDriver;
  readonly loaded: ReadonlyMap<string, LoadedUnit>;
  readonly log: Logger;
  /** Fields added to a unit's record (e.g. the restart generation it applied, its health check result). */
  readonly extra?: (
    unit: string,
    loaded: LoadedUnit,
    systemd: SystemdState,
  ) => Partial<AgentStateRecord> | Promise<Partial<AgentStateRecord>>;
  /** Units the agent refused to link (host-guard.ts), published with their refusal instead. */
  readonly refused?: () => ReadonlyMap<string, AgentStateRecord>;
}): StatePublisher {
  const { machineID, store, driver, loaded, log } = opts;
  const lastPublished = new Map<string, string>();
  const retryLater = (name: string, what: string) => (err: unknown) =>
    log.debug({ machine: machineID, unit: name, err: errorMessage(err) }, `state ${what} failed; will retry`);

  return {
    async publish() {
      let settling = 0;
      const refused = opts.refused?.() ?? new Map<string, AgentStateRecord>();
      const names = [...loaded.keys()].filter((n) => !refused.has(n));
      const states = names.length > 0 ? await driver.unitStates(names) : new Map();
      const records = new Map<string, AgentStateRecord>(refused);
      for (const name of names) {
        const u = loaded.get(name);
        const s = states.get(name);
        if (!u || !s) continue;
        if (SETTLING.has(s.active)) settling++;
        records.set(name, {
          hash: u.hash,
          load: s.load,
          active: s.active,
          sub: s.sub,
          agentState: u.state,
          ...(await opts.extra?.(name, u, s)),
        });
      }
      const writes: Promise<void>[] = [];
      for (const [name, rec] of records) {
        const json = JSON.stringify(rec);
        if (lastPublished.get(name) === json) continue;
        writes.push(
          store.publishState(name, rec).then(
            () => {
              lastPublished.set(name, json);
            },
            retryLater(name, 'publish'),
          ),
        );
      }
      for (const name of [...lastPublished.keys()]) {
        if (loaded.has(name) || refused.has(name)) continue;
        writes.push(
          store.deleteState(name).then(
            () => {
              lastPublished.delete(name);
            },
            retryLater(name, 'delete'),
          ),
        );
      }
      await Promise.all(writes);
      return settling;
    },
    republishAll() {
      for (const name of lastPublished.keys()) lastPublished.set(name, '');
    },
  };
}
