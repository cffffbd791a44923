// The demo end to end, as a user runs it: `demo.ts start` boots its cluster of real systemd machines
// and prints every command it runs. Every printed command must have exited 0; then the printed
// `export` line, pasted into a fresh shell (empty HOME, no ssh-agent), must make `fleetctl status`,
// `journal`, `ssh` and `--tunnel` print exactly what the machine's own systemd says (systemctl and
// journalctl run inside the machine through nsenter). `demo.ts stop` must then leave nothing behind.
// The demo runs in its own state dir (FLEET_DEMO_DIR), so a user's demo on this host is untouched.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, PROJECT } from '../support/fleet-e2e.js';

const STATE_DIR = mkdtempSync(join(tmpdir(), 'fleet-ts-demo-e2e-'));
const DEMO_ENV = { ...process.env, FLEET_DEMO_DIR: STATE_DIR };
const EMPTY_HOME = mkdtempSync(join(tmpdir(), 'fleet-ts-demo-home-'));

interface Step {
  command: string;
  code: number;
  stdout: string;
  stderr: string;
}
interface Proc {
  pid: number;
  start: string | null;
}
interface State {
  bridge: string;
  etcd: Proc;
  keeper: Proc;
  machines: { name: string; ip: string; machineID: string; leader: Proc; nspawn: Proc }[];
}

let output = '';
let steps: Step[] = [];
let state: State | undefined;

/** `npm run demo -- ARGS`, the README's command (through scripts/demo.sh). */
function demo(args: string[], timeoutMs: number): { code: number; out: string } {
  const r = spawnSync('npm', ['run', '--silent', 'demo', '--', ...args], {
    cwd: PROJECT,
    env: DEMO_ENV,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { code: r.status ?? 128, out: `${r.stdout}${r.stderr}` };
}

/** The user's ~/.ssh, file by file, to prove the demo leaves it alone. */
function sshDirDigest(): string {
  const dir = join(homedir(), '.ssh');
  if (!existsSync(dir)) return 'absent';
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort()) {
    h.update(f);
    try {
      h.update(readFileSync(join(dir, f)));
    } catch {
      // not a regular file
    }
  }
  return h.digest('hex');
}

function exportLine(): string {
  const line = output.split('\n').find((l) => /^\s+export PATH=/.test(l));
  if (!line) throw new Error(`the demo printed no export line:\n${output.slice(-2000)}`);
  return line.trim();
}

/** A fresh shell: nothing of this process's environment, an empty HOME, no ssh-agent. */
function freshShell(command: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', `${exportLine()}\n${command}`], {
    env: { HOME: EMPTY_HOME, PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    cwd: EMPTY_HOME,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

function freshOk(command: string): string {
  const r = freshShell(command);
  if (r.code !== 0) throw new Error(`${command}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** argv run inside a machine, in its namespaces (the host's view of its systemd). */
function inMachine(leader: Proc, argv: string[]): string {
  const r = spawnSync('nsenter', ['-t', String(leader.pid), '-a', '--', ...argv], {
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return r.stdout;
}

/** The machine a unit runs on now, according to fleetctl in the fresh shell. */
function machineRunning(unit: string): State['machines'][number] {
  const rows = JSON.parse(freshOk('fleetctl list-units --output json')) as {
    unit: string;
    machine: { id: string } | null;
  }[];
  const id = rows.find((r) => r.unit === unit)?.machine?.id;
  const m = state?.machines.find((x) => x.machineID === id);
  if (!m) throw new Error(`${unit} runs on no demo machine (${id})`);
  return m;
}

/** `Active: ... since <time>; 5s ago`: the relative part moves between two reads. */
const withoutAgo = (s: string) => s.replace(/; [^;\n]+ ago$/gm, '');

let sshBefore = '';

beforeAll(() => {
  ensureBuilt();
  sshBefore = sshDirDigest();
  // --no-install: test.sh installed the packages; a reinstall would swap node_modules under vitest.
  const r = demo(['--no-install'], 600_000);
  output = r.out;
  const transcript = join(STATE_DIR, 'transcript.jsonl');
  if (existsSync(transcript)) {
    steps = readFileSync(transcript, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Step);
  }
  if (existsSync(join(STATE_DIR, 'state.json')))
    state = JSON.parse(readFileSync(join(STATE_DIR, 'state.json'), 'utf8')) as State;
  if (r.code !== 0) throw new Error(`the demo failed (exit ${r.code}):\n${output.slice(-3000)}`);
}, 660_000);

afterAll(() => {
  demo(['stop'], 120_000);
  rmSync(STATE_DIR, { recursive: true, force: true });
  rmSync(EMPTY_HOME, { recursive: true, force: true });
}, 150_000);

describe('npm run demo', () => {
  it('ran every command it printed, each exiting 0', () => {
    const printed = output
      .split('\n')
      .filter((l) => l.startsWith('$ '))
      .map((l) => l.slice(2).replace(/ {6}# .*$/, ''));
    expect(steps.map((s) => s.command)).toEqual(printed);
    for (const s of steps)
      expect({ command: s.command, code: s.code }).toEqual({ command: s.command, code: 0 });
    for (const want of [
      'fleetctl list-machines -l',
      'fleetctl status apache@8081',
      'fleetctl journal -n 3 apache@8081',
      'fleetctl ssh apache@8082 hostname',
    ]) {
      expect(printed).toContain(want);
    }
    expect(printed.some((c) => /^fleetctl --tunnel \S+ list-machines$/.test(c))).toBe(true);
    expect(printed.some((c) => /^nsenter -t \d+ -a systemctl poweroff$/.test(c))).toBe(true);
    expect(
      printed.some((c) => /^cp hello\.service \/proc\/\d+\/root\/var\/lib\/fleet-watch\/$/.test(c)),
    ).toBe(true);
    expect(printed).toContain('fleetctl list-runs tick.service');
    const api = steps.find((s) => s.command.includes('/run/fleet.sock http://fleet/fleet/v1/machines'));
    const live = (state?.machines ?? []).filter((m) => existsSync(`/proc/${m.leader.pid}`));
    for (const m of live) expect(api?.stdout).toContain(m.machineID);
    // The lost machine's instance came back elsewhere, with the time it took.
    expect(output).toMatch(
      /apache@808\d\.service moved from demo\d to demo\d: active\/running again [\d.]+ s/,
    );
    expect(output).toMatch(/hello\.service active on demo\d/);
  });

  it('gives one export line after which status prints what systemd in the machine says', () => {
    for (const unit of ['apache@8081.service', 'apache@8082.service', 'hello.service']) {
      const m = machineRunning(unit);
      const fromFleetctl = freshOk(`fleetctl status ${unit}`);
      const fromSystemd = inMachine(m.leader, ['systemctl', 'status', unit]);
      expect(fromFleetctl).toMatch(new RegExp(`^● ${unit.replace(/[.@]/g, '\\$&')} - `));
      expect(withoutAgo(fromFleetctl)).toBe(withoutAgo(fromSystemd));
    }
  });

  it('journal -n 3 prints the machine journal lines of the unit', () => {
    for (const unit of ['apache@8081.service', 'apache@8082.service']) {
      const m = machineRunning(unit);
      const fromFleetctl = freshOk(`fleetctl journal -n 3 ${unit}`);
      const fromJournald = inMachine(m.leader, ['journalctl', '-u', unit, '-n', '3', '--no-pager']);
      expect(fromFleetctl.trim().split('\n')).toHaveLength(3);
      expect(fromFleetctl).toBe(fromJournald);
    }
  });

  it('ssh runs commands on the machine of the unit, directly and through --tunnel', () => {
    const m = machineRunning('apache@8082.service');
    expect(freshOk('fleetctl ssh apache@8082 hostname').trim()).toBe(
      inMachine(m.leader, ['hostname']).trim(),
    );
    expect(freshOk('fleetctl ssh apache@8082 cat /etc/machine-id').trim()).toBe(m.machineID);
    const via = state?.machines.find(
      (x) => x.machineID !== m.machineID && existsSync(`/proc/${x.leader.pid}`),
    );
    expect(via).toBeDefined();
    const tunneled = freshOk(`fleetctl --tunnel ${via?.ip} status apache@8082`);
    expect(withoutAgo(tunneled)).toBe(
      withoutAgo(inMachine(m.leader, ['systemctl', 'status', 'apache@8082'])),
    );
    expect(freshOk(`fleetctl --tunnel ${via?.ip} list-machines --no-legend`).trim().split('\n')).toHaveLength(
      2,
    );
    // Nothing was written to the fresh shell's HOME (no ~/.fleetctl/known_hosts, no ~/.ssh).
    expect(readdirSync(EMPTY_HOME)).toEqual([]);
  });

  it('did not change ~/.ssh', () => {
    expect(sshDirDigest()).toBe(sshBefore);
  });

  it('prints the same export line again with `env`, and its steps and options with --help', () => {
    const env = demo(['env'], 60_000);
    expect(env.code, env.out).toBe(0);
    expect(env.out.trim()).toBe(exportLine());
    const help = demo(['--help'], 60_000);
    expect(help.code, help.out).toBe(0);
    for (const text of ['Steps', '--machines N', '--keep', 'npm run demo -- stop'])
      expect(help.out).toContain(text);
  });

  it('npm run demo -- stop removes the machines, etcd, the bridge and the state dir', () => {
    const st = state;
    expect(st).toBeDefined();
    const r = demo(['stop'], 120_000);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('demo: stopped; nothing of it is left running');
    const procs = [st?.keeper, st?.etcd, ...(st?.machines ?? []).flatMap((m) => [m.nspawn, m.leader])];
    const running = procs.filter((p): p is Proc => {
      if (!p) return false;
      try {
        // Same process (start time) and not a zombie waiting for its reaper.
        const [pstate, ...rest] = readFileSync(`/proc/${p.pid}/stat`, 'utf8')
          .replace(/^.*\) /s, '')
          .split(' ');
        return pstate !== 'Z' && rest[18] === p.start;
      } catch {
        return false;
      }
    });
    expect(running).toEqual([]);
    expect(spawnSync('ip', ['link', 'show', 'dev', st?.bridge ?? '-']).status).not.toBe(0);
    expect(existsSync(STATE_DIR)).toBe(false);
  });
});
