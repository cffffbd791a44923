// The harness itself: three real systemd machines on a private bridge, reachable over SSH, each with
// its own machine ID, and nothing of them left on the host after teardown.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupPids } from '../support/cgroups.js';
import { type Cluster, createCluster } from '../support/nspawn.js';

const NAMES = ['boot1', 'boot2', 'boot3'];
let cluster: Cluster | undefined;
let bootWallMs = 0;

function c(): Cluster {
  if (!cluster) throw new Error('cluster did not boot');
  return cluster;
}

function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

beforeAll(async () => {
  const t0 = Date.now();
  cluster = await createCluster({
    machines: NAMES.map((name, i) => ({ name, metadata: { role: i === 0 ? 'lead' : 'worker' } })),
    projectDir: resolve(import.meta.dirname, '../..'),
  });
  bootWallMs = Date.now() - t0;
  console.log(
    `booted ${NAMES.length} machines in ${bootWallMs} ms (per machine: ${[...c().machines.values()]
      .map((m) => `${m.name} ${m.bootMs} ms`)
      .join(', ')})`,
  );
});

afterAll(async () => {
  await cluster?.teardown();
});

describe('nspawn cluster harness', () => {
  it('boots every machine with systemd as PID 1 and answers SSH from the host', async () => {
    for (const name of NAMES) {
      // is-system-running exits 1 for "degraded" (a unit of the host's /usr failed at boot), which we accept.
      const r = await c().ssh(name, 'hostname; cat /proc/1/comm; systemctl is-system-running || true');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const [hostname, pid1, state] = r.stdout.trim().split('\n');
      expect(hostname).toBe(name);
      expect(pid1).toBe('systemd');
      expect(['running', 'degraded']).toContain(state);
    }
  });

  it('gives each machine its own machine ID, address and fleet.conf', async () => {
    const ids = new Set<string>();
    for (const name of NAMES) {
      const m = c().machine(name);
      const id = (await c().ssh(name, 'cat /etc/machine-id')).stdout.trim();
      expect(id).toBe(m.machineID);
      ids.add(id);
      const conf = (await c().ssh(name, 'cat /etc/fleet/fleet.conf')).stdout;
      expect(conf).toContain(`etcd_servers=${c().etcdEndpoint}`);
      expect(conf).toContain(`public_ip=${m.ip}`);
      expect(conf).toMatch(/metadata="role=(lead|worker)"/);
    }
    expect(ids.size).toBe(NAMES.length);
    // Each machine's veth is named after its host-unique nspawn name, not its hostname (two runs
    // booting machines of the same names do not collide), and sits on this cluster's bridge.
    const ports = execFileSync('ip', ['-o', 'link', 'show', 'master', c().bridge], { encoding: 'utf8' });
    for (const name of NAMES) expect(ports).toContain(`${c().machine(name).veth}@`);
    expect(ids.has(readFileSync('/etc/machine-id', 'utf8').trim())).toBe(false);
  });

  it('lets machines reach etcd on the bridge and each other, and mounts the project read-only', async () => {
    const health = await c().ssh(
      'boot2',
      `exec 3<>/dev/tcp/${c().hostIP}/${c().etcd.clientPort} && echo open`,
    );
    expect(health.stdout.trim()).toBe('open');
    const peer = c().machine('boot3').ip;
    expect((await c().ssh('boot1', `exec 3<>/dev/tcp/${peer}/22 && echo open`)).stdout.trim()).toBe('open');
    const w = await c().ssh('boot1', 'touch /opt/fleet-ts/package.json');
    expect(w.code).not.toBe(0);
    expect(w.stderr).toMatch(/Read-only file system/);
  });

  it('runs each machine in its own cgroup: a unit of one machine is not seen by another', async () => {
    for (const name of NAMES) {
      await c().execOk(name, ['systemd-run', '--unit=same-name', '/bin/sleep', '1000']);
    }
    const pids = NAMES.map((n) => c().machine(n).leaderPid);
    for (const name of NAMES) {
      const main = (
        await c().execOk(name, ['systemctl', 'show', '-p', 'MainPID', '--value', 'same-name'])
      ).trim();
      expect(Number(main)).toBeGreaterThan(0);
      const procs = (
        await c().execOk(name, ['systemctl', 'show', '-p', 'ControlGroup', '--value', 'same-name'])
      ).trim();
      expect(procs).toMatch(/same-name\.service$/);
    }
    expect(new Set(pids).size).toBe(NAMES.length);
    // Stopping it on one machine leaves the others' copies running.
    await c().execOk('boot1', ['systemctl', 'stop', 'same-name']);
    expect((await c().exec('boot2', ['systemctl', 'is-active', 'same-name'])).stdout.trim()).toBe('active');
    expect((await c().exec('boot3', ['systemctl', 'is-active', 'same-name'])).stdout.trim()).toBe('active');
  });

  it('powers a machine off and boots a new one into the running cluster', async () => {
    const gone = c().machine('boot3');
    await c().powerOff('boot3');
    expect(alive(gone.nspawnPid)).toBe(false);
    expect(alive(gone.leaderPid)).toBe(false);
    const m = await c().bootMachine({ name: 'boot4' });
    const r = await c().ssh('boot4', 'hostname');
    expect(r.stdout.trim()).toBe('boot4');
    expect(m.ip).not.toBe(gone.ip);
  });

  it('teardown leaves no process, link, cgroup or temp dir behind', async () => {
    const cl = c();
    const machines = [...cl.machines.values()];
    const etcdPid = cl.etcd.pid();
    const cgroupDirs = ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified']
      .map((h) => `${h}/fleet-ts/${cl.bridge}`)
      .filter((d) => existsSync(d));
    expect(cgroupDirs.length).toBeGreaterThan(0);
    const tmp = resolve(cl.sshKeyFile, '..');
    await cl.teardown();
    cluster = undefined;
    for (const m of machines) {
      expect(alive(m.nspawnPid)).toBe(false);
      expect(alive(m.leaderPid)).toBe(false);
    }
    expect(alive(etcdPid)).toBe(false);
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
    expect(links).not.toContain(`${cl.bridge}:`);
    for (const m of machines) expect(links).not.toContain(`${m.veth}@`);
    for (const d of cgroupDirs) {
      expect(cgroupPids(d)).toEqual([]);
      expect(existsSync(d)).toBe(false);
    }
    expect(existsSync(tmp)).toBe(false);
  });
});
