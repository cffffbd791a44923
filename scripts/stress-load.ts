// Background load for `npm run test:stress`: boots a cluster of real systemd machines through the test
// harness, exercises it briefly, tears it down, and starts over, until SIGTERM/SIGINT or the deadline
// (argv[2], seconds). This is "the e2e machines of another run": boots, SSH, cgroups and teardown
// competing with the suite under test for CPU, the bridge allocator and nspawn.
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Cluster, createCluster } from '../test/support/nspawn.js';
import { errorMessage } from '../units/common.js';

const deadline = Date.now() + Number(process.argv[2] ?? 3600) * 1000;
let stopping = false;
let current: Cluster | undefined;

const stop = () => {
  stopping = true;
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

let rounds = 0;
while (!stopping && Date.now() < deadline) {
  try {
    current = await createCluster({
      machines: [{ name: 'load1' }, { name: 'load2' }, { name: 'load3' }],
      projectDir: resolve(import.meta.dirname, '..'),
    });
    for (const m of current.machines.keys()) {
      if (stopping) break;
      await current.ssh(m, 'systemd-run --wait --quiet /bin/true; journalctl -n 50 >/dev/null');
    }
    // Hold the machines up for a while, as a running e2e file would.
    for (let i = 0; i < 20 && !stopping; i++) await sleep(1000);
  } catch (err) {
    console.error(`stress-load: round ${rounds + 1}: ${errorMessage(err)}`);
    await sleep(2000);
  } finally {
    await current?.teardown().catch((err: Error) => console.error(`stress-load: teardown: ${err.message}`));
    current = undefined;
  }
  rounds++;
}
console.log(`stress-load: ${rounds} cluster rounds`);
