// The demo's command line: its help text (the steps it shows) and the options of `start`.
import { STATE_DIR, WATCH_DIR } from './state.js';

export const HELP = `npm run demo [-- OPTIONS]      boot a fleet-ts cluster of real systemd machines and show it working
npm run demo -- stop           remove everything the demo started (machines, etcd, bridge, ${STATE_DIR})
npm run demo -- galera         the database example instead: a MariaDB Galera cluster on 4 machines
npm run demo -- env            print the export line for the running demo again
npm run demo -- --help         this text

Steps (each prints the command it runs, then its output):
  1. boot N machines (systemd-nspawn, all role=worker; fleetd on each, etcd on this host);
     fleetctl list-machines -l
  2. the apache example: cat, submit and start apache@8081 and apache@8082 (Conflicts=apache@*),
     list-units, curl each instance, list-unit-files
  3. status, journal and ssh from this host: fleetctl status, journal -n 3, ssh UNIT hostname,
     and --tunnel through a machine
  4. a machine loss: the machine running one instance is powered off; list-units shows the instance
     running on another worker, with the time it took
  5. the watched directory: hello.service copied into the first machine's ${WATCH_DIR}
     (unit_watch_directory) becomes an active unit
  6. cluster cron: tick.service (Schedule=*/10 * * * * *) started, fleetctl list-runs; fleet's HTTP
     API on a machine's /var/run/fleet.sock (curl); fleetctl list-machines -l
  7. the closing hints: one export line after which fleetctl status, journal, ssh and --tunnel work
     in any shell (the demo's SSH key and known_hosts live in ${STATE_DIR}/ssh; ~/.ssh is not touched)

With galera (examples/galera, 4 machines): galera@1..3 started with fleetctl, wsrep_cluster_size and a
row written through galera@1 read through galera@3 (fleetctl ssh); the machine of galera@2 killed hard,
a write while it is gone, galera@2 placed on the 4th machine, joined by state transfer, the rows there.

Options:
  --machines N   boot N machines, 3 to 8 (default 3; two run apache, one takes over after the loss)
  --keep         leave the cluster running when a step fails, to look around (default: remove it)
  --no-install   skip scripts/install-deps.sh (the packages are installed already)

Needs root on Debian 12; installs its packages with scripts/install-deps.sh. The cluster keeps running
after the demo until \`npm run demo -- stop\`.`;

export interface StartOptions {
  machines: number;
  keep: boolean;
  /** The apache/cron tour (default) or the Galera example (needs a spare machine: at least 4). */
  scenario: 'tour' | 'galera';
}

export function parseStart(
  args: readonly string[],
  scenario: StartOptions['scenario'] = 'tour',
): StartOptions {
  const o: StartOptions = { machines: scenario === 'galera' ? 4 : 3, keep: false, scenario };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a];
    if (flag === '--keep') o.keep = true;
    else if (flag === '--no-install')
      continue; // handled by demo.sh
    else if (flag === '--machines') {
      const v = inline ?? args[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 3 || n > 8)
        throw new Error(`--machines needs a number from 3 to 8, not ${JSON.stringify(v ?? '')}`);
      if (scenario === 'galera' && n < 4)
        throw new Error('galera needs --machines 4 or more (3 nodes and a spare)');
      o.machines = n;
    } else throw new Error(`unknown option ${JSON.stringify(a)} (see npm run demo -- --help)`);
  }
  return o;
}
