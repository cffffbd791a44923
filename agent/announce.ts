// The agent's start: announce the machine (retrying with fleet's backoff) and remove links that
// outlived their unit files.

import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../units/common.js';
import type { Logger } from '../units/log.js';
import type { MachineState } from '../units/types.js';
import type { AgentStore } from './store.js';
import type { SystemdDriver } from './systemd/driver.js';
import type { UnitFileStore } from './unit-files.js';

/** Announces `machine` until it works; fleet's registration backoff: 1 s, doubling, at most 60 s. */
export async function announceUntilDone(
  store: Pick<AgentStore, 'announce'>,
  machine: MachineState,
  log: Logger,
  isStopped: () => boolean,
): Promise<void> {
  for (let delay = 1000; ; delay = Math.min(60_000, delay * 2)) {
    try {
      await store.announce(machine);
      return;
    } catch (err) {
      if (isStopped()) throw new Error('agent stopped before it could announce');
      // Another live fleetd holds this machine ID: an operator must look (two hosts, one ID).
      const held = err instanceof Error && err.name === 'RegistrationHeldError';
      (held ? log.error : log.warn).call(
        log,
        { machine: machine.id, err: errorMessage(err) },
        `register machine failed, retrying in ${delay / 1000} sec`,
      );
      await sleep(delay);
      if (isStopped()) throw new Error('agent stopped before it could announce');
    }
  }
}

/** Links left in the systemd directory whose file is gone (fleet#1627): remove them. */
export async function removeDanglingLinks(
  files: UnitFileStore,
  driver: SystemdDriver,
  log: Logger,
  machineID: string,
): Promise<void> {
  const onDisk = new Set((await files.list()).map((f) => f.name));
  for (const name of await files.listLinks()) {
    if (onDisk.has(name)) continue;
    await driver.stopUnit(name).catch(() => undefined);
    await files.remove(name);
    log.info({ machine: machineID, unit: name }, `removed stale link of ${name}`);
  }
}
