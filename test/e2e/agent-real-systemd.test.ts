// Issue 4 acceptance: fleetd (engine + agent) as a real systemd service inside an nspawn machine,
// against a real etcd on the host bridge. Units are submitted through the registry, exactly as
// fleetctl does; everything else is observed through systemctl inside the machine and etcd.
import { setTimeout as sleep } from 'node:timers/promises';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import { machineSchedulePrefix, scheduleKey, unitContentKey } from '../../registry/keys.js';
import { encodeSchedule } from '../../registry/records.js';
import { DEFAULT_KEY_PREFIX } from '../../registry/types.js';
import { parseUnitFile } from '../../units/parse.js';
import { serializeUnit, unitHash } from '../../units/serialize.js';
import type { DesiredState, UnitSpec } from '../../units/types.js';
import { ensureBuilt, PROJECT } from '../support/fleet-e2e.js';
import { type Cluster, createCluster } from '../support/nspawn.js';

const M = 'agent1';
const UNITS_DIR = '/run/fleet/units';

let cluster: Cluster | undefined;
let registry: EtcdRegistry | undefined;
let raw: Etcd3 | undefined;
let machineID = '';
/** When each unit's schedule record for our machine first appeared (engine's write), host clock. */
const scheduledAt = new Map<string, number>();

function c(): Cluster {
  if (!cluster) throw new Error('cluster did not boot');
  return cluster;
}
function reg(): EtcdRegistry {
  if (!registry) throw new Error('registry not open');
  return registry;
}

function spec(name: string, body: string, desiredState: DesiredState = 'launched'): UnitSpec {
  const options = parseUnitFile(body);
  return { name, hash: unitHash(options), options, desiredState };
}

const HELLO =
  '[Unit]\nDescription=hello %i\n\n[Service]\nExecStart=/bin/sh -c "echo hello %i; exec sleep 100000"\n';

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function reportedStates(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const s of await reg().listUnitStates()) {
    if (s.machineID === machineID) out.set(s.unit, `${s.systemd.load}/${s.systemd.active}/${s.systemd.sub}`);
  }
  return out;
}

async function inMachine(cmd: string): Promise<string> {
  return (await c().exec(M, ['sh', '-c', cmd])).stdout.trim();
}

beforeAll(async () => {
  ensureBuilt();
  cluster = await createCluster({
    machines: [{ name: M, metadata: { role: 'worker' } }],
    projectDir: PROJECT,
    startFleetd: true,
  });
  machineID = c().machine(M).machineID;
  registry = openEtcdRegistry({
    endpoints: [c().etcd.endpoint],
    keyPrefix: DEFAULT_KEY_PREFIX,
    requestTimeoutMs: 5000,
  });
  raw = new Etcd3({ hosts: [c().etcd.endpoint] });
  const schedPrefix = DEFAULT_KEY_PREFIX + machineSchedulePrefix(machineID);
  const watcher = await raw.watch().prefix(schedPrefix).create();
  watcher.on('put', (kv) => {
    const unit = kv.key.toString().slice(schedPrefix.length);
    if (!scheduledAt.has(unit)) scheduledAt.set(unit, Date.now());
  });
  await until('the machine to announce itself', 60_000, async () =>
    (await reg().listMachines()).some((m) => m.id === machineID) ? true : undefined,
  );
});

afterAll(async () => {
  raw?.close();
  await registry?.close();
  if (cluster) {
    // Keep fleetd's log in the test output when something failed.
    const log = await c().exec(M, [
      'journalctl',
      '-u',
      'fleet.service',
      '--no-pager',
      '-n',
      '30',
      '-o',
      'cat',
    ]);
    if (log.stdout.includes('"level":50') || log.stdout.includes('"level":60')) console.log(log.stdout);
    await cluster.teardown();
  }
});

describe('fleetd on real systemd (issue 4 acceptance)', () => {
  it('announces the machine with its ID, public IP and metadata', async () => {
    const m = (await reg().listMachines()).find((x) => x.id === machineID);
    expect(m?.publicIP).toBe(c().machine(M).ip);
    expect(m?.metadata).toEqual({ role: 'worker' });
    expect(await inMachine('systemctl is-active fleet.service')).toBe('active');
  });

  it('runs a scheduled template instance: active/running in systemd, state in etcd', async () => {
    const t0 = Date.now();
    expect(await reg().createUnit(spec('hello@1.service', HELLO))).toBe(true);
    await until('hello@1 active in etcd', 60_000, async () =>
      (await reportedStates()).get('hello@1.service') === 'loaded/active/running' ? true : undefined,
    );
    const done = Date.now();
    console.log(
      `[measure] 1 unit: submitted -> active/running reported in etcd: ${done - t0} ms; ` +
        `schedule written -> reported: ${done - (scheduledAt.get('hello@1.service') ?? Number.NaN)} ms`,
    );
    expect(await inMachine('systemctl is-active hello@1.service')).toBe('active');
    expect(await inMachine('systemctl show -p SubState --value hello@1.service')).toBe('running');
    expect(await inMachine(`test -f ${UNITS_DIR}/hello@1.service && echo file`)).toBe('file');
    expect(await inMachine('journalctl -u hello@1.service --no-pager -o cat')).toContain('hello 1');
    const u = await reg().getUnit('hello@1.service');
    expect(u?.machineID).toBe(machineID);
    expect(u?.currentState).toBe('launched');
  });

  it('stop (desired state loaded) stops it in systemd but keeps it loaded', async () => {
    await reg().setDesiredState('hello@1.service', 'loaded');
    await until('hello@1 inactive in etcd', 60_000, async () =>
      (await reportedStates()).get('hello@1.service') === 'loaded/inactive/dead' ? true : undefined,
    );
    expect(await inMachine('systemctl is-active hello@1.service')).toBe('inactive');
    expect(await inMachine(`test -f ${UNITS_DIR}/hello@1.service && echo file`)).toBe('file');
  });

  it('destroy removes it from systemd, /run/fleet/units and etcd', async () => {
    await reg().setDesiredState('hello@1.service', 'launched');
    await until('hello@1 active again', 60_000, async () =>
      (await reportedStates()).get('hello@1.service') === 'loaded/active/running' ? true : undefined,
    );
    expect(await reg().destroyUnit('hello@1.service')).toBe(true);
    await until('hello@1 state gone from etcd', 60_000, async () =>
      (await reportedStates()).has('hello@1.service') ? undefined : true,
    );
    await until('hello@1 gone from systemd', 30_000, async () =>
      (await inMachine('systemctl show -p LoadState --value hello@1.service')) === 'not-found'
        ? true
        : undefined,
    );
    expect(await inMachine('systemctl is-active hello@1.service')).not.toBe('active');
    expect(await inMachine(`ls -A ${UNITS_DIR}`)).not.toContain('hello@1');
    expect(await inMachine('ls -A /run/systemd/system')).not.toContain('hello@1');
  });

  it('a schedule entry whose unit name holds ../ or / never touches the filesystem', async () => {
    if (!raw) throw new Error('no etcd client');
    const ns = raw.namespace(DEFAULT_KEY_PREFIX);
    const evilBody = '[Service]\nExecStart=/bin/sh -c "touch /tmp/pwned; sleep 100000"\n';
    const options = parseUnitFile(evilBody);
    const hash = unitHash(options);
    await ns.put(unitContentKey(hash)).value(serializeUnit(options));
    const hostile = ['../../../etc/systemd/system/evil.service', '../evil.service', 'sub/evil.service', '..'];
    for (const name of hostile) {
      await ns.put(scheduleKey(machineID, name)).value(encodeSchedule({ hash, desiredState: 'launched' }));
    }
    // A healthy unit scheduled afterwards: once it runs, the agent has processed the hostile entries.
    expect(await reg().createUnit(spec('canary@1.service', HELLO))).toBe(true);
    await until('canary@1 active', 60_000, async () =>
      (await reportedStates()).get('canary@1.service') === 'loaded/active/running' ? true : undefined,
    );
    expect(
      await inMachine('find / -xdev -name "evil*" 2>/dev/null; find /run -name "evil*" 2>/dev/null'),
    ).toBe('');
    expect(await inMachine('ls -A /etc/systemd/system 2>/dev/null')).not.toContain('evil');
    expect(await inMachine('test -e /tmp/pwned && echo pwned || echo clean')).toBe('clean');
    expect(await inMachine(`ls -A ${UNITS_DIR}`)).toBe('canary@1.service');
    expect(await inMachine('systemctl list-units --all --plain --no-legend "*evil*"')).toBe('');
    expect(await inMachine('systemctl is-active fleet.service')).toBe('active');
    for (const name of hostile) await ns.delete().key(scheduleKey(machineID, name));
    await reg().destroyUnit('canary@1.service');
  });

  it('measures 100 units: schedule -> active reported, vs systemctl start of the same 100 directly', async () => {
    const N = 100;
    const names = Array.from({ length: N }, (_, i) => `bulk@${i + 1}.service`);
    const t0 = Date.now();
    await Promise.all(names.map((n) => reg().createUnit(spec(n, HELLO))));
    const tSubmitted = Date.now() - t0;
    await until(`${N} units active in etcd`, 240_000, async () => {
      const s = await reportedStates();
      return names.every((n) => s.get(n) === 'loaded/active/running') ? true : undefined;
    });
    const tDone = Date.now();
    const fleetMs = tDone - t0;
    const firstScheduled = Math.min(...names.map((n) => scheduledAt.get(n) ?? Number.NaN));
    const lastScheduled = Math.max(...names.map((n) => scheduledAt.get(n) ?? Number.NaN));
    expect(await inMachine('systemctl list-units --plain --no-legend --state=running "bulk@*" | wc -l')).toBe(
      String(N),
    );

    // Baseline: the same template and 100 instances started by systemctl directly, inside the machine.
    await c().execOk(
      M,
      ['sh', '-c', 'cat > /run/systemd/system/direct@.service && systemctl daemon-reload'],
      {
        input: HELLO,
      },
    );
    const direct = names.map((n) => n.replace('bulk@', 'direct@'));
    const t1 = Date.now();
    await c().execOk(M, ['systemctl', 'start', ...direct]);
    const directOneCallMs = Date.now() - t1;
    await c().execOk(M, ['systemctl', 'stop', ...direct]);
    const t2 = Date.now();
    await c().execOk(M, ['sh', '-c', `for u in ${direct.join(' ')}; do systemctl start "$u"; done`]);
    const directLoopMs = Date.now() - t2;
    expect(
      await inMachine('systemctl list-units --plain --no-legend --state=running "direct@*" | wc -l'),
    ).toBe(String(N));
    console.log(
      `[measure] ${N} units: submitted in ${tSubmitted} ms; submit -> all active reported in etcd: ${fleetMs} ms; ` +
        `first schedule write -> all reported: ${tDone - firstScheduled} ms (schedule writes spanned ` +
        `${lastScheduled - firstScheduled} ms) | systemctl start (one call, ${N} names): ${directOneCallMs} ms | ` +
        `${N} x systemctl start: ${directLoopMs} ms`,
    );
    await c().execOk(M, ['systemctl', 'stop', ...direct]);
    await Promise.all(names.map((n) => reg().destroyUnit(n)));
    await until('bulk units gone', 240_000, async () => {
      const s = await reportedStates();
      return names.some((n) => s.has(n)) ? undefined : true;
    });
    expect(await inMachine(`ls -A ${UNITS_DIR} | wc -l`)).toBe('0');
  });
});
