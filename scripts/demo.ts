// The one-command demo (`npm run demo`, via scripts/demo.sh). `demo.ts --help` says what it does;
// scripts/demo/ holds the pieces: state.ts (state dir, recorded PIDs), keeper.ts (the process that
// owns the cluster), steps.ts (the scenario), shell.ts (printed commands, the export line), stop.ts.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../units/common.js';
import { galeraExample, galeraHints, writeGaleraUnit } from './demo/galera.js';
import { keeper, machineNames } from './demo/keeper.js';
import { HELP, parseStart, type StartOptions } from './demo/options.js';
import { exportLine, listJson } from './demo/shell.js';
import {
  alive,
  type DemoState,
  FLEETCTL,
  FLEETD,
  KEEPER_LOG,
  proc,
  readState,
  UNIT_DIR,
  waitUntil,
  writeState,
} from './demo/state.js';
import {
  apacheExample,
  cronAndApi,
  machineLoss,
  remoteAccess,
  watchedDirectory,
  writeUnitFiles,
} from './demo/steps.js';
import { stopDemo } from './demo/stop.js';

function logTail(): string {
  try {
    return readFileSync(KEEPER_LOG, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no keeper log)';
  }
}

async function bootCluster(count: number): Promise<DemoState> {
  const names = machineNames(count);
  console.log(
    `demo: booting ${count} systemd machines (systemd-nspawn: ${names.join(', ')}) with etcd on this host...`,
  );
  const logFd = openSync(KEEPER_LOG, 'a');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), 'keeper', String(count)],
    { detached: true, stdio: ['ignore', logFd, logFd], env: process.env },
  );
  closeSync(logFd);
  const keeperProc = proc(child.pid ?? -1);
  child.unref();
  writeState({ keeper: keeperProc });
  try {
    return await waitUntil('the cluster to boot', 60_000 * count, () => {
      const s = readState();
      if (s?.error) throw new Error(`booting the cluster failed: ${s.error}`);
      if (s?.ready) return s;
      if (!alive(keeperProc)) throw new Error(`the demo keeper exited during boot:\n${logTail()}`);
      return undefined;
    });
  } catch (err) {
    await stopDemo(() => {});
    throw err;
  }
}

function closingHints(st: DemoState, startedMs: number, scenario: StartOptions['scenario']): string {
  const machines = st.machines ?? [];
  const live = machines.filter((m) => alive(m.nspawn));
  const off = machines.filter((m) => !alive(m.nspawn)).map((m) => m.name);
  return `
demo: done in ${((Date.now() - startedMs) / 1000).toFixed(0)} s. The cluster keeps running${off.length ? ` (${off.join(', ')} ${scenario === 'galera' ? 'killed' : 'powered off'})` : ''}.
Use it from any shell after this one line (fleetctl on PATH, the cluster's etcd, the demo's SSH key
and known_hosts; nothing in ~/.ssh is used or changed):

  ${exportLine(st)}
${
  scenario === 'galera'
    ? galeraHints()
    : `
  fleetctl list-units
  fleetctl status apache@8081
  fleetctl journal -n 3 apache@8081
  fleetctl ssh apache@8082 hostname
  fleetctl --tunnel ${live[0]?.ip ?? '<machine ip>'} list-machines
  fleetctl list-runs tick.service`
}

Inside a machine: nsenter -t <PID> -a systemctl status '${scenario === 'galera' ? 'galera' : 'apache'}@*'  (PIDs: ${live
    .map((m) => `${m.name} ${m.leader.pid}`)
    .join(', ')})
The export line again: npm run demo -- env
Stop everything the demo started: npm run demo -- stop`;
}

async function startDemo(opts: StartOptions): Promise<void> {
  const t0 = Date.now();
  if (await stopDemo((l) => console.log(`demo: ${l}`))) console.log('demo: previous run cleaned up');
  if (!existsSync(FLEETD) || !existsSync(FLEETCTL)) {
    throw new Error(`${FLEETD} missing: run \`npm run build\` first`);
  }
  mkdirSync(UNIT_DIR, { recursive: true });
  writeUnitFiles();
  if (opts.scenario === 'galera') writeGaleraUnit();
  const st = await bootCluster(opts.machines);
  const machines = st.machines ?? [];
  console.log(
    `demo: ${machines.length} machines up in ${((st.bootMs ?? 0) / 1000).toFixed(1)} s: ` +
      machines.map((m) => `${m.name} ${m.ip}`).join(', '),
  );
  console.log(`demo: every command below runs as printed, after: ${exportLine(st)}`);
  try {
    // fleetd announces each machine a moment after its service starts.
    await waitUntil('every machine to join the cluster', 60_000, () => {
      const rows = listJson<unknown>(st, 'list-machines');
      return rows && rows.length >= machines.length ? true : undefined;
    });
    if (opts.scenario === 'galera') {
      await galeraExample(st);
    } else {
      const placed = await apacheExample(st);
      remoteAccess(st, placed);
      await machineLoss(st, placed);
      await watchedDirectory(st);
      await cronAndApi(st);
    }
  } catch (err) {
    console.error(`\ndemo: ${errorMessage(err)}`);
    if (opts.keep) {
      console.error('demo: --keep: the cluster is left running; remove it with npm run demo -- stop');
      console.error(`  ${exportLine(st)}`);
    } else {
      console.error('demo: stopping the cluster so nothing is left behind (--keep leaves it running)');
      await stopDemo(() => {});
    }
    process.exit(1);
  }
  console.log(closingHints(st, t0, opts.scenario));
}

async function main(): Promise<void> {
  const [cmd = 'start', ...rest] = process.argv.slice(2);
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(HELP);
    return;
  }
  if (cmd === 'keeper') return keeper(Number(rest[0] ?? 3));
  if (cmd === 'stop') {
    const stopped = await stopDemo((l) => console.log(`demo: ${l}`));
    console.log(stopped ? 'demo: stopped; nothing of it is left running' : 'demo: nothing to stop');
    return;
  }
  if (cmd === 'env') {
    const st = readState();
    if (!st?.ready || !alive(st.keeper)) throw new Error('no demo is running (start one with npm run demo)');
    console.log(exportLine(st));
    return;
  }
  if (cmd === 'start') return startDemo(parseStart(rest));
  if (cmd === 'galera') return startDemo(parseStart(rest, 'galera'));
  if (cmd.startsWith('-')) return startDemo(parseStart([cmd, ...rest]));
  throw new Error(`unknown command "${cmd}" (see npm run demo -- --help)`);
}

main().catch((err: unknown) => {
  console.error(`demo: ${errorMessage(err)}`);
  process.exit(1);
});
