// The fleetctl command suite's shared state: one simulated cluster per driver (etcd or api), the unit
// files fleetctl runs in, and fleetctl itself. The scenario groups (cli-commands-*.ts) share it and
// run in the order cli-commands.test.ts registers them: later groups read what earlier ones left
// (hello@1 unloaded, hello@2 known, nightly.service's runs).
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';
import { SIM_MACHINES } from '../support/sim-cluster.js';
import {
  type CliDriver,
  type CliTarget,
  fleetctlAt,
  golden,
  type RunResult,
  startCliTarget,
  unitDir,
} from './cli-helpers.js';

export const HELLO =
  '[Unit]\nDescription=Hello World %i\n\n[Service]\nExecStart=/bin/sh -c "while true; do echo Hello from %i on %H; sleep 5; done"\n\n[X-Fleet]\nConflicts=hello@*.service\n';
export const [M1, M2] = SIM_MACHINES;

export interface CliSuite {
  readonly driver: CliDriver;
  /** The cluster fleetctl talks to (set before the first test). */
  readonly target: CliTarget;
  /** The directory of unit files fleetctl runs in. */
  readonly dir: string;
  fleetctl(...args: string[]): Promise<RunResult>;
  /** Compares output with a golden file (shared by both drivers). */
  expectGolden(name: string, out: string): void;
}

/** Starts the cluster and the unit directory for the calling describe block; stops them after it. */
export function useCliSuite(driver: CliDriver): CliSuite {
  let target: CliTarget | undefined;
  let dir = '';
  let fleetctl: ((...args: string[]) => Promise<RunResult>) | undefined;

  beforeAll(async () => {
    target = await startCliTarget(driver);
    dir = unitDir({
      'hello@.service': HELLO,
      'web.service': '[Unit]\nDescription=web\n\n[Service]\nExecStart=/bin/sleep infinity\n',
      'web2.service': '[Unit]\nDescription=web v2\n\n[Service]\nExecStart=/bin/sleep infinity\n',
      'broken.service': '[Unit]\nDescription=ok\n[Service\nExecStart=/bin/true\n',
      'glob.service': '[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nGlobal=true\n',
      'pinned.service': `[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nMachineID=${M2.id}\nFoo=bar\n`,
    });
    fleetctl = fleetctlAt(target.endpoint, dir, {}, driver);
  });

  afterAll(async () => {
    await target?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  return {
    driver,
    get target(): CliTarget {
      if (!target) throw new Error('the cluster did not start');
      return target;
    },
    get dir(): string {
      return dir;
    },
    fleetctl: (...args) => {
      if (!fleetctl) throw new Error('the cluster did not start');
      return fleetctl(...args);
    },
    expectGolden: (name, out) => {
      const g = golden(name, out);
      expect(g.actual).toBe(g.expected);
    },
  };
}
