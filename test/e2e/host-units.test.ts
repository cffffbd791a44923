// Issue 14 item 5 on real systemd: fleet units never shadow or hook into the host's own units. A unit
// the host runs itself (hostapp.service in /etc/systemd/system), the machine's sshd (the transient
// test-sshd.service), a reserved name (sshd.service), a template and
// [Install] sections aliasing or hooking into a host unit are written straight into etcd (as a
// compromised or careless writer could, past fleetctl's and the API's checks); the agent links none of
// them, reports each as LOAD refused / ACTIVE failed, and the host's units keep running untouched.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3, type Namespace } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobKey, scheduleKey, unitContentKey } from '../../registry/keys.js';
import { encodeJob, encodeSchedule } from '../../registry/records.js';
import { DEFAULT_KEY_PREFIX } from '../../registry/types.js';
import { parseUnitFile } from '../../units/parse.js';
import { serializeUnit, unitHash } from '../../units/serialize.js';
import { ensureBuilt, fleetctl, fleetctlOk, PROJECT, until } from '../support/fleet-e2e.js';
import { type Cluster, createCluster } from '../support/nspawn.js';

const M = 'hostunits1';
const HOST_UNIT = '[Service]\nExecStart=/bin/sleep 100000\n';
const FLEET_BODY = '[Service]\nExecStart=/bin/sh -c "touch /run/fleet-ran-%n; exec sleep 100000"\n';
const withInstall = (install: string) => `${FLEET_BODY}\n[Install]\n${install}\n`;

let cluster: Cluster | undefined;
let raw: Etcd3 | undefined;
let ns: Namespace | undefined;
let machineID = '';
let unitDir = '';

function c(): Cluster {
  if (!cluster) throw new Error('cluster did not boot');
  return cluster;
}
const inMachine = async (cmd: string): Promise<string> =>
  (await c().exec(M, ['sh', '-c', cmd])).stdout.trim();

/** What a writer with etcd access can do: contents plus a job (the engine schedules it) or a schedule entry. */
async function writeStraight(name: string, body: string, as: 'job' | 'schedule'): Promise<void> {
  if (!ns) throw new Error('no etcd');
  const options = parseUnitFile(body);
  const hash = unitHash(options);
  await ns.put(unitContentKey(hash)).value(serializeUnit(options));
  if (as === 'job') await ns.put(jobKey(name)).value(encodeJob({ name, hash, desiredState: 'launched' }));
  else await ns.put(scheduleKey(machineID, name)).value(encodeSchedule({ hash, desiredState: 'launched' }));
}

async function states(): Promise<Map<string, string>> {
  const out = await fleetctlOk(c(), ['list-units', '--no-legend', '--fields=unit,load,active,sub']);
  const m = new Map<string, string>();
  for (const line of out.split('\n').filter((l) => l.trim() !== '')) {
    const [unit = '', ...rest] = line.split('\t').filter((f) => f !== '');
    m.set(unit, rest.join('/'));
  }
  return m;
}

beforeAll(async () => {
  ensureBuilt();
  unitDir = mkdtempSync(join(tmpdir(), 'fleet-ts-hostunits-'));
  cluster = await createCluster({ machines: [{ name: M }], projectDir: PROJECT, startFleetd: true });
  machineID = c().machine(M).machineID;
  raw = new Etcd3({ hosts: [c().etcd.endpoint] });
  ns = raw.namespace(DEFAULT_KEY_PREFIX);
  await c().execOk(M, [
    'sh',
    '-c',
    `printf '${HOST_UNIT.replace(/\n/g, '\\n')}' > /etc/systemd/system/hostapp.service && systemctl daemon-reload && systemctl start hostapp.service`,
  ]);
  await until('the machine in list-machines', 60_000, async () =>
    (await fleetctlOk(c(), ['list-machines', '--no-legend'])).trim() !== '' ? true : undefined,
  );
}, 600_000);

afterAll(async () => {
  raw?.close();
  try {
    await cluster?.teardown();
  } finally {
    if (unitDir) rmSync(unitDir, { recursive: true, force: true });
  }
});

describe('fleet units never shadow host units (real systemd)', () => {
  it('fleetctl refuses a reserved name at submit time, with one line', async () => {
    writeFileSync(join(unitDir, 'sshd.service'), FLEET_BODY);
    const r = await fleetctl(c(), ['submit', join(unitDir, 'sshd.service')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`unit name "sshd.service" is reserved for the host's own units`);
    writeFileSync(join(unitDir, 'web.service'), withInstall('Alias=ssh.service'));
    const a = await fleetctl(c(), ['submit', join(unitDir, 'web.service')]);
    expect(a.code).not.toBe(0);
    expect(a.stderr).toContain('[Install] Alias=ssh.service of web.service names a unit reserved');
  });

  it('the agent refuses host units, reserved names, templates and [Install] hooks written into etcd', async () => {
    const hostPid = await inMachine('systemctl show -p MainPID --value hostapp.service');
    const sshPid = await inMachine('systemctl show -p MainPID --value test-sshd.service');
    expect(Number(sshPid)).toBeGreaterThan(0);
    expect(Number(hostPid)).toBeGreaterThan(0);
    await writeStraight('hostapp.service', FLEET_BODY, 'job');
    await writeStraight('test-sshd.service', FLEET_BODY, 'job');
    await writeStraight('sshd.service', FLEET_BODY, 'job');
    await writeStraight('alias.service', withInstall('Alias=hostapp.service'), 'job');
    await writeStraight('hook.service', withInstall('RequiredBy=hostapp.service'), 'job');
    await writeStraight('fine.service', withInstall('WantedBy=multi-user.target'), 'job');

    const want = new Map([
      ['hostapp.service', 'refused/failed/host-unit'],
      ['test-sshd.service', 'refused/failed/host-unit'],
      ['sshd.service', 'refused/failed/reserved'],
      ['alias.service', 'refused/failed/install-hook'],
      ['hook.service', 'refused/failed/install-hook'],
      ['fine.service', 'loaded/active/running'],
    ]);
    const seen = await until('every unit reported', 180_000, async () => {
      const s = await states();
      return [...want].every(([u, v]) => s.get(u) === v) ? s : undefined;
    });
    console.log(`[e2e] states: ${JSON.stringify(Object.fromEntries(seen))}`);

    // The host's units run as before, from the host's files; fleet linked none of the refused names.
    expect(await inMachine('systemctl show -p MainPID --value hostapp.service')).toBe(hostPid);
    expect(await inMachine('systemctl show -p FragmentPath --value hostapp.service')).toBe(
      '/etc/systemd/system/hostapp.service',
    );
    expect(await inMachine('systemctl show -p MainPID --value test-sshd.service')).toBe(sshPid);
    expect(await inMachine('systemctl show -p FragmentPath --value test-sshd.service')).toBe(
      '/run/systemd/transient/test-sshd.service',
    );
    expect(await inMachine('systemctl show -p RequiredBy --value hostapp.service')).toBe('');
    expect((await inMachine('ls -A /run/fleet/units')).split('\n')).toEqual(['fine.service']);
    expect(await inMachine('ls -A /run/systemd/system | grep -E "hostapp|ssh|alias|hook|tpl" || true')).toBe(
      '',
    );
    expect(await inMachine('ls /run/fleet-ran-* 2>/dev/null')).toBe('/run/fleet-ran-fine.service');
    expect(await inMachine('systemctl is-active fleet.service')).toBe('active');
    // One line per refusal in fleetd's journal, naming the unit and the reason.
    const journal = await inMachine(
      'journalctl -u fleet.service --no-pager -o cat | grep "refusing unit" || true',
    );
    expect(journal).toContain(
      `refusing unit hostapp.service scheduled to ${machineID}: the host has its own hostapp.service (/etc/systemd/system/hostapp.service)`,
    );
    // A template scheduled straight to the machine (the engine deletes a schedule entry without a job
    // at its next reconcile, so the writer keeps writing it): refused, never linked or started.
    const tplLine = await until(
      'the template refused',
      120_000,
      async () => {
        await writeStraight('tpl@.service', FLEET_BODY, 'schedule');
        const j = await inMachine(
          'journalctl -u fleet.service --no-pager -o cat | grep "refusing unit tpl@" || true',
        );
        return j === '' ? undefined : j;
      },
      1000,
    );
    expect(tplLine).toContain('tpl@.service is a template: fleet starts instances of templates');
    expect(await inMachine('ls -A /run/fleet/units /run/systemd/system | grep tpl || true')).toBe('');
    expect(await inMachine('ls /run/fleet-ran-* 2>/dev/null')).toBe('/run/fleet-ran-fine.service');
  });
});
