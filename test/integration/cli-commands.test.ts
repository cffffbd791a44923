// fleetctl end to end against a real etcd, the real engine and agents (in-memory systemd): exact
// output (golden files with real TABs), exit codes, blocking and --no-block. Every test runs with both
// drivers: --driver=etcd talks to etcd, --driver=api to fleetd's HTTP API (the real handler on a unix
// socket) over the same kind of cluster; both must give the same bytes, the golden files are shared.
// The groups run in this order on one cluster per driver (cli-commands-suite.ts says why).
import { describe } from 'vitest';
import { endpointErrorTests } from './cli-commands-endpoints.js';
import { errorTests } from './cli-commands-errors.js';
import { unitLifecycleTests } from './cli-commands-lifecycle.js';
import { listMachinesTests } from './cli-commands-machines.js';
import { listRunsTests } from './cli-commands-runs.js';
import { useCliSuite } from './cli-commands-suite.js';

describe.each(['etcd', 'api'] as const)('fleetctl --driver=%s', (driver) => {
  const s = useCliSuite(driver);
  listMachinesTests(s);
  unitLifecycleTests(s);
  errorTests(s);
  listRunsTests(s);
  endpointErrorTests(s);
});
