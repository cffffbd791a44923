// Issue 6, seed 004: what a user sees from the host with fleetctl. `list-machines -l` lists every
// machine with its full ID, IP and metadata; a hello-loop unit runs; `status` and `journal` print
// systemd's status and the unit's journal over real SSH; `ssh <unit> cmd` runs on the unit's machine
// and passes the remote exit code through.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureBuilt,
  fleetctl,
  fleetctlOk,
  listUnits,
  machineNamed,
  PROJECT,
  until,
} from '../support/fleet-e2e.js';
import { type Cluster, createCluster, type MachineSpec } from '../support/nspawn.js';

const UNIT = 'hello.service';
const SPECS: MachineSpec[] = [
  { name: 'seed4a', metadata: { role: 'lead', zone: 'x' } },
  { name: 'seed4b', metadata: { role: 'worker', zone: 'y' } },
  { name: 'seed4c', metadata: { role: 'worker', zone: 'z' } },
].map((s) => ({ ...s, fleetConf: { agent_ttl: '5s' } }));

let cluster: Cluster | undefined;
let unitDir = '';
let unitMachine = '';

function c(): Cluster {
  if (!cluster) throw new Error('cluster did not boot');
  return cluster;
}

beforeAll(async () => {
  ensureBuilt();
  unitDir = mkdtempSync(join(tmpdir(), 'fleet-ts-seed004-'));
  writeFileSync(
    join(unitDir, UNIT),
    [
      '[Unit]',
      'Description=Hello World',
      '',
      '[Service]',
      'ExecStart=/bin/sh -c "while true; do echo Hello from %H; sleep 1; done"',
      '',
    ].join('\n'),
  );
  cluster = await createCluster({ machines: SPECS, projectDir: PROJECT, startFleetd: true });
});

afterAll(async () => {
  try {
    await cluster?.teardown();
  } finally {
    if (unitDir) rmSync(unitDir, { recursive: true, force: true });
  }
});

/**
 * What to show when an SSH-backed command fails: fleetctl's stderr and the unit machine's sshd log
 * (an exit 255 with empty stderr once came from the remote side; its sshd log says why).
 */
async function sshFailureContext(r: { code: number; stderr: string }): Promise<string> {
  if (r.code === 0) return '';
  const sshd = await c().exec(unitMachine, [
    'journalctl',
    '-u',
    'test-sshd',
    '--no-pager',
    '-n',
    '30',
    '-o',
    'cat',
  ]);
  return `exit ${r.code}; stderr: ${r.stderr.trim() || '(empty)'}\nsshd log of ${unitMachine}:\n${sshd.stdout}`;
}

describe('seed 004: fleetctl from the host against real machines', () => {
  it('list-machines -l shows every machine with full ID, IP and metadata', async () => {
    const expected = SPECS.map((s) => {
      const m = c().machine(s.name);
      const md = Object.entries(s.metadata ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join(',');
      return { id: m.machineID, ip: m.ip, md };
    }).sort((a, b) => a.id.localeCompare(b.id));
    const out = await until('3 machines in list-machines -l', 60_000, async () => {
      const r = await fleetctlOk(c(), ['list-machines', '-l']);
      return r.trim().split('\n').length === 1 + SPECS.length ? r : undefined;
    });
    const [header, ...rows] = out.trim().split('\n');
    expect(header?.split(/\t+/)).toEqual(['MACHINE', 'IP', 'METADATA']);
    const parsed = rows.map((l) => {
      const [id = '', ip = '', md = ''] = l.split(/\t+/);
      return { id, ip, md };
    });
    expect(parsed).toEqual(expected);
  });

  it('starts the hello loop on one machine', async () => {
    const r = await fleetctl(c(), ['start', join(unitDir, UNIT)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Unit hello\.service launched on [0-9a-f]{8}\.\.\.\/10\.231\.\d+\.\d+$/m);
    const row = await until(`${UNIT} active/running`, 60_000, async () =>
      (await listUnits(c())).find((u) => u.unit === UNIT && u.active === 'active' && u.sub === 'running'),
    );
    unitMachine = machineNamed(c(), row.machineID);
    expect(row.ip).toBe(c().machine(unitMachine).ip);
    // Let the loop print a few lines for the journal test.
    await until('a few Hello lines in the journal', 30_000, async () => {
      const j = await c().execOk(unitMachine, ['journalctl', '-u', UNIT, '--no-pager', '-o', 'cat']);
      return j.split('\n').filter((l) => l.startsWith('Hello from')).length >= 6 ? true : undefined;
    });
  });

  it('status prints systemd status from the unit machine over SSH', async () => {
    const r = await fleetctl(c(), ['status', UNIT]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^● hello\.service - Hello World$/m);
    expect(r.stdout).toMatch(/^\s+Active: active \(running\) since /m);
    expect(r.stdout).toContain('/run/systemd/system/hello.service');
    expect(r.stdout).toContain(`Hello from ${unitMachine}`);
  });

  it('journal --lines 5 prints the last five journal lines', async () => {
    const r = await fleetctl(c(), ['journal', '--lines', '5', UNIT]);
    expect(r.code, await sshFailureContext(r)).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    for (const l of lines)
      expect(l).toMatch(new RegExp(`${unitMachine} sh\\[\\d+\\]: Hello from ${unitMachine}$`));
  });

  it('ssh <unit> runs the command on the unit machine', async () => {
    const r = await fleetctl(c(), ['ssh', UNIT, 'hostname']);
    expect(r.code, await sshFailureContext(r)).toBe(0);
    expect(r.stdout.trim()).toBe(unitMachine);
    // And the unit really is there: the command sees its process.
    const ps = await fleetctl(c(), ['ssh', UNIT, 'systemctl', 'is-active', UNIT]);
    expect(ps.stdout.trim()).toBe('active');
  });

  it('ssh <unit> passes the remote exit code through', async () => {
    const r = await fleetctl(c(), ['ssh', UNIT, '--', 'exit', '7']);
    expect(r.code, await sshFailureContext(r)).toBe(7);
    const ok = await fleetctl(c(), ['ssh', UNIT, 'true']);
    expect(ok.code, await sshFailureContext(ok)).toBe(0);
  });

  it('status of a unit that is not in the cluster is a one-line error', async () => {
    const r = await fleetctl(c(), ['status', 'nope.service']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('nope.service');
  });
});
