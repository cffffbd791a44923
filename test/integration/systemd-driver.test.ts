// SystemctlDriver against a real systemd 252: one nspawn machine, the driver on the host with the
// command prefix `nsenter -t <machine's systemd> -a`, so every systemctl call runs inside the machine.
// No fallback: if nspawn, nsenter or etcd is missing, beforeAll throws and every test fails.
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemctlDriver } from '../../agent/systemd/systemctl.js';
import { type Cluster, createCluster } from '../support/nspawn.js';

const M = 'drvtest';
let cluster: Cluster | undefined;
let driver: SystemctlDriver;

function c(): Cluster {
  if (!cluster) throw new Error('cluster did not boot');
  return cluster;
}

async function writeUnit(name: string, body: string): Promise<void> {
  await c().execOk(M, ['sh', '-c', `cat > /run/systemd/system/${name}`], { input: body });
}

async function waitState(name: string, active: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = (await driver.unitStates([name])).get(name);
    if (s?.active === active || Date.now() > deadline) return s;
    await sleep(100);
  }
}

beforeAll(async () => {
  cluster = await createCluster({
    machines: [{ name: M }],
    projectDir: resolve(import.meta.dirname, '../..'),
  });
  driver = new SystemctlDriver({ commandPrefix: c().nsenterPrefix(M) });
}, 180_000);

afterAll(async () => {
  await cluster?.teardown();
}, 180_000);

describe('SystemctlDriver on a real systemd machine', () => {
  it('loads, starts and stops a unit written into /run/systemd/system', async () => {
    expect((await driver.unitStates(['hello.service'])).get('hello.service')?.load).toBe('not-found');
    await writeUnit('hello.service', '[Service]\nExecStart=/bin/sleep 1000\n');
    await driver.daemonReload();
    expect((await driver.unitStates(['hello.service'])).get('hello.service')).toEqual({
      load: 'loaded',
      active: 'inactive',
      sub: 'dead',
    });

    await driver.startUnit('hello.service');
    expect(await waitState('hello.service', 'active')).toEqual({
      load: 'loaded',
      active: 'active',
      sub: 'running',
    });
    const pid = await c().execOk(M, ['systemctl', 'show', '-p', 'MainPID', '--value', 'hello.service']);
    expect(Number(pid.trim())).toBeGreaterThan(0);

    await driver.stopUnit('hello.service');
    expect((await driver.unitStates(['hello.service'])).get('hello.service')).toEqual({
      load: 'loaded',
      active: 'inactive',
      sub: 'dead',
    });
  });

  it('start of a unit that fails at once "succeeds"; the state read afterwards says failed', async () => {
    await writeUnit('broken.service', '[Service]\nExecStart=/bin/false\n');
    await driver.daemonReload();
    await expect(driver.startUnit('broken.service')).resolves.toBeUndefined();
    expect(await waitState('broken.service', 'failed')).toEqual({
      load: 'loaded',
      active: 'failed',
      sub: 'failed',
    });

    await driver.resetFailed('broken.service');
    expect((await driver.unitStates(['broken.service'])).get('broken.service')?.active).toBe('inactive');
  });

  it('reads many units in one call, unknown units as not-found/inactive/dead', async () => {
    await writeUnit('multi@.service', '[Service]\nExecStart=/bin/sleep 1000\n');
    await driver.daemonReload();
    await driver.startUnit('multi@1.service');
    await waitState('multi@1.service', 'active');
    const names = ['multi@1.service', 'never-heard-of.service', 'multi@2.service', 'hello.service'];
    const states = await driver.unitStates(names);
    expect([...states.keys()]).toEqual(names);
    expect(states.get('multi@1.service')).toEqual({ load: 'loaded', active: 'active', sub: 'running' });
    expect(states.get('never-heard-of.service')).toEqual({
      load: 'not-found',
      active: 'inactive',
      sub: 'dead',
    });
    // A template instance that was never started is loadable from its template.
    expect(states.get('multi@2.service')).toEqual({ load: 'loaded', active: 'inactive', sub: 'dead' });
    await driver.stopUnit('multi@1.service');
  });

  it('starts and stops many units in one call each; a ghost among them fails the start, not the rest', async () => {
    await writeUnit('batch@.service', '[Service]\nExecStart=/bin/sleep 1000\n');
    await driver.daemonReload();
    const names = ['batch@1.service', 'batch@2.service', 'batch@3.service'];
    await driver.startUnits(names);
    for (const n of names) expect((await waitState(n, 'active'))?.active).toBe('active');

    await driver.stopUnits(names);
    const stopped = await driver.unitStates(names);
    for (const n of names) expect(stopped.get(n)?.active).toBe('inactive');

    // systemctl still queues the good names when one is unknown, and says which one failed.
    const err = await driver.startUnits(['batch@4.service', 'ghost.service']).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/ghost\.service/);
    expect((await waitState('batch@4.service', 'active'))?.active).toBe('active');

    // Stopping names systemd does not know, among known ones, is not an error (as stopUnit).
    await expect(
      driver.stopUnits(['batch@4.service', 'ghost.service', 'ghost2.service']),
    ).resolves.toBeUndefined();
    expect((await driver.unitStates(['batch@4.service'])).get('batch@4.service')?.active).toBe('inactive');
  });

  it('a unit systemd never loaded starts without a daemon-reload; reloadNeededFor tells it apart', async () => {
    // Written after the last reload: systemd (>= 246) reads it when it is first started.
    await writeUnit('fresh.service', '[Service]\nExecStart=/bin/sleep 1000\n');
    expect(await driver.reloadNeededFor(['fresh.service', 'fresh2.service'])).toBe(false);
    await driver.startUnits(['fresh.service']);
    expect(await waitState('fresh.service', 'active')).toEqual({
      load: 'loaded',
      active: 'active',
      sub: 'running',
    });
    // Now systemd holds it: a changed file would not be seen without a reload.
    expect(await driver.reloadNeededFor(['fresh2.service', 'fresh.service'])).toBe(true);
    await driver.stopUnit('fresh.service');
  });

  it('enable --runtime links a unit with [Install] into /run, disable removes the link', async () => {
    await writeUnit(
      'installed.service',
      '[Service]\nExecStart=/bin/sleep 1000\n\n[Install]\nWantedBy=multi-user.target\n',
    );
    await driver.daemonReload();
    await driver.enableUnit('installed.service');
    const link = '/run/systemd/system/multi-user.target.wants/installed.service';
    expect((await c().exec(M, ['test', '-L', link])).code).toBe(0);
    expect((await c().execOk(M, ['systemctl', 'is-enabled', 'installed.service'])).trim()).toBe(
      'enabled-runtime',
    );

    await driver.disableUnit('installed.service');
    expect((await c().exec(M, ['test', '-e', link])).code).not.toBe(0);
  });

  it('stop, disable and reset-failed of a unit systemd does not know are no-ops, not errors', async () => {
    await expect(driver.stopUnit('ghost.service')).resolves.toBeUndefined();
    await expect(driver.disableUnit('ghost.service')).resolves.toBeUndefined();
    await expect(driver.resetFailed('ghost.service')).resolves.toBeUndefined();
  });

  it('errors are one line and carry systemctl stderr', async () => {
    const err = await driver.startUnit('ghost.service').catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toMatch(/^systemctl start --no-block ghost\.service failed \(exit \d+\): .*ghost\.service/);
  });

  it('refuses unit names that systemctl would read as paths', async () => {
    await expect(driver.startUnit('../etc/passwd')).rejects.toThrow(/invalid unit name/);
    await expect(driver.unitStates(['a/b.service'])).rejects.toThrow(/invalid unit name/);
  });
});
