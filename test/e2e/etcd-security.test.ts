// Issue 14 item 8 on real systemd machines: the cluster's etcd runs with TLS, client-certificate
// authentication (--client-cert-auth) and etcd's own authentication, with the roles `fleetctl
// etcd-roles` prints. Each machine's fleetd logs in with its own certificate (CN fleet-agent-<id>); the
// engine machine's user also holds fleet-engine; fleetctl on the host is fleet-admin. The cluster works
// as usual — machines announce themselves, units are scheduled and run — while a machine's credentials
// cannot write another machine's schedule, state or record, nor submit or destroy units.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, isActive, machineNamed, PROJECT, until } from '../support/fleet-e2e.js';
import { fleetConf } from '../support/nspawn/machine-files.js';
import { type Cluster, createCluster, type ExecResult, type MachineSpec } from '../support/nspawn.js';
import { type IssuedCert, type SecureEtcd, startSecureEtcd } from '../support/secure-etcd.js';

const PREFIX = '/_coreos.com/fleet/';
const ENGINE: MachineSpec = { name: 'sec1' };
const AGENTS: MachineSpec[] = [
  { name: 'sec2', fleetConf: { disable_engine: true } },
  { name: 'sec3', fleetConf: { disable_engine: true } },
];
const MACHINES = [ENGINE, ...AGENTS];

let cluster: Cluster | undefined;
let secure: SecureEtcd | undefined;
let admin: IssuedCert;
let unitDir = '';

const c = (): Cluster => {
  if (!cluster) throw new Error('cluster did not boot');
  return cluster;
};
const s = (): SecureEtcd => {
  if (!secure) throw new Error('secure etcd did not start');
  return secure;
};
const id = (name: string): string => c().machine(name).machineID;

/** The compiled fleetctl on the host, as fleet-admin over TLS. */
function fleetctl(args: readonly string[]): Promise<ExecResult> {
  const argv = [
    join(PROJECT, 'dist/cli/fleetctl.js'),
    '--driver=etcd',
    `--endpoint=https://127.0.0.1:${s().port}`,
    `--ca-file=${s().caFile}`,
    `--cert-file=${admin.cert}`,
    `--key-file=${admin.key}`,
    ...args,
  ];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('FLEETCTL_')) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, stdout, stderr });
    });
  });
}

/** etcdctl inside a machine with that machine's own certificate (what a root compromise there has). */
function etcdctlIn(machine: string, args: readonly string[]): Promise<ExecResult> {
  return c().exec(machine, [
    'etcdctl',
    `--endpoints=https://${c().hostIP}:${s().port}`,
    '--cacert=/etc/fleet/ca.crt',
    '--cert=/etc/fleet/etcd.crt',
    '--key=/etc/fleet/etcd.key',
    ...args,
  ]);
}

beforeAll(async () => {
  ensureBuilt();
  unitDir = mkdtempSync(join(tmpdir(), 'fleet-ts-e2e-sec-'));
  writeFileSync(
    join(unitDir, 'web@.service'),
    '[Service]\nExecStart=/bin/sleep 100000\n\n[X-Fleet]\nConflicts=web@*.service\n',
  );
  cluster = await createCluster({ machines: MACHINES, projectDir: PROJECT, startFleetd: false });
  secure = await startSecureEtcd({ listenHosts: [cluster.hostIP] });
  admin = secure.issue('admin', 'fleet-admin');

  // The operator's step: the roles script fleetctl prints, run with root's credentials.
  const roles = await fleetctl([
    'etcd-roles',
    `--engine=${id(ENGINE.name)}`,
    ...AGENTS.map((m) => id(m.name)),
  ]);
  expect(roles.code, roles.stderr).toBe(0);
  await new Promise<void>((resolve, reject) => {
    const sh = spawn('sh', ['-s'], { stdio: ['pipe', 'ignore', 'pipe'], env: { ...s().rootEnv } });
    let err = '';
    sh.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    sh.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`roles script: ${err}`))));
    sh.stdin.end(roles.stdout);
  });

  // Each machine: its own certificate (CN = its etcd user), fleet.conf pointing at the secure etcd.
  for (const spec of MACHINES) {
    const m = c().machine(spec.name);
    const cert = s().issue(spec.name, `fleet-agent-${m.machineID}`);
    copyFileSync(s().caFile, join(m.dir, 'fleet', 'ca.crt'));
    copyFileSync(cert.cert, join(m.dir, 'fleet', 'etcd.crt'));
    copyFileSync(cert.key, join(m.dir, 'fleet', 'etcd.key'));
    const conf = fleetConf(spec, `https://${c().hostIP}:${s().port}`, m.ip);
    writeFileSync(
      join(m.dir, 'fleet', 'fleet.conf'),
      `${conf}etcd_cafile=/etc/fleet/ca.crt\netcd_certfile=/etc/fleet/etcd.crt\netcd_keyfile=/etc/fleet/etcd.key\n`,
    );
    await c().startFleetd(spec.name);
  }
});

afterAll(async () => {
  try {
    await cluster?.teardown();
  } finally {
    await secure?.stop();
    if (unitDir) rmSync(unitDir, { recursive: true, force: true });
  }
});

describe('etcd with TLS, client certificates and per-machine roles (issue 14 item 8)', () => {
  it('each machine announces itself with its own credentials; the engine schedules; units run', async () => {
    await until('3 machines in list-machines', 120_000, async () => {
      const r = await fleetctl(['list-machines', '--no-legend', '--full']);
      return r.stdout.trim().split('\n').filter(Boolean).length === 3 ? true : undefined;
    });
    const start = await fleetctl([
      'start',
      '--no-block',
      join(unitDir, 'web@1.service'),
      join(unitDir, 'web@2.service'),
    ]);
    expect(start.code, start.stderr).toBe(0);
    for (const unit of ['web@1.service', 'web@2.service']) {
      const machine = await until(`${unit} active on a machine`, 180_000, async () => {
        const r = await fleetctl(['list-units', '--no-legend', '--full', '--fields=unit,machine,active']);
        const rows = r.stdout.split('\n').map((l) => l.split('\t').filter((f) => f !== ''));
        const row = rows.find(([u, , active]) => u === unit && active === 'active');
        return row?.[1]?.split('/')[0];
      });
      expect(await isActive(c(), machineNamed(c(), machine), unit)).toBe('active');
    }
    // The roles are enough: no fleetd was refused anything it tried.
    for (const spec of MACHINES) {
      const log = await c().execOk(spec.name, [
        'journalctl',
        '-u',
        'fleet.service',
        '--no-pager',
        '-o',
        'cat',
      ]);
      expect(log).toContain('fleetd started');
      expect(
        `${spec.name}: ${log
          .split('\n')
          .filter((l) => /permission denied/i.test(l))
          .join(' | ')}`,
      ).toBe(`${spec.name}: `);
    }
  });

  it("a machine's credentials cannot write another machine's keys, the schedule or the jobs", async () => {
    const [a, b] = [id('sec2'), id('sec3')];
    const schedule = JSON.stringify({ hash: '0'.repeat(40), desiredState: 'launched' });
    const attempts: [string, string, string[]][] = [
      ['sec2', 'schedule a unit on sec3', ['put', `${PREFIX}schedule/${b}/evil.service`, schedule]],
      ['sec2', 'schedule a unit on itself', ['put', `${PREFIX}schedule/${a}/evil.service`, schedule]],
      ['sec2', 'submit a job', ['put', `${PREFIX}job/evil.service`, '{"name":"evil.service"}']],
      ['sec2', "report sec3's unit states", ['put', `${PREFIX}state/${b}/web@1.service`, '{}']],
      ['sec2', "rewrite sec3's machine record", ['put', `${PREFIX}machines/${b}/object`, '{}']],
      ['sec2', 'read the jobs', ['get', '--prefix', `${PREFIX}job/`]],
      ['sec2', 'take the engine lead', ['put', `${PREFIX}engine/leader`, a]],
      // The engine machine schedules, but still cannot touch jobs or speak for other machines.
      ['sec1', 'submit a job', ['put', `${PREFIX}job/evil.service`, '{"name":"evil.service"}']],
      ['sec1', "report sec2's unit states", ['put', `${PREFIX}state/${a}/web@1.service`, '{}']],
      ['sec1', "rewrite sec2's machine record", ['put', `${PREFIX}machines/${a}/object`, '{}']],
    ];
    for (const [machine, what, args] of attempts) {
      const r = await etcdctlIn(machine, args);
      expect(`${machine}: ${what}: exit ${r.code} ${r.stderr.trim()}`).toMatch(
        /exit [1-9]\d* .*permission denied/,
      );
    }
    // What each machine needs still works with the same credentials: its own state, its schedule.
    const own = await etcdctlIn('sec2', ['get', '--prefix', '--keys-only', `${PREFIX}schedule/${a}/`]);
    expect(own.code, own.stderr).toBe(0);

    // Nothing of the attempts landed, and the cluster kept working.
    const evil = s().etcdctlAsRoot(['get', '--prefix', '--keys-only', PREFIX]);
    expect(evil).not.toContain('evil.service');
    const r = await fleetctl(['list-units', '--no-legend', '--fields=unit,active']);
    expect(r.stdout).toMatch(/web@1\.service\s+active/);
    expect(r.stdout).toMatch(/web@2\.service\s+active/);
  });

  it("fleetctl on a machine with that machine's certificate cannot destroy or stop units", async () => {
    const run = (args: string[]) =>
      c().exec('sec2', [
        'node',
        '/opt/fleet-ts/dist/cli/fleetctl.js',
        '--driver=etcd',
        `--endpoint=https://${c().hostIP}:${s().port}`,
        '--ca-file=/etc/fleet/ca.crt',
        '--cert-file=/etc/fleet/etcd.crt',
        '--key-file=/etc/fleet/etcd.key',
        ...args,
      ]);
    const destroy = await run(['destroy', 'web@1.service']);
    expect(destroy.code).not.toBe(0);
    expect(destroy.stderr).toMatch(/permission denied/);
    const stop = await run(['stop', '--no-block', 'web@2.service']);
    expect(stop.code).not.toBe(0);
    const r = await fleetctl(['list-units', '--no-legend', '--fields=unit,active']);
    expect(r.stdout).toMatch(/web@1\.service\s+active/);
    expect(r.stdout).toMatch(/web@2\.service\s+active/);
  });
});
