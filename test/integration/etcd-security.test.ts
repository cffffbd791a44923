// Issue 14 item 8: a real etcd with TLS, client-certificate authentication (--client-cert-auth) and
// etcd's own authentication enabled, with the roles `fleetctl etcd-roles` prints (run through
// etcdctl, as an operator would). An agent-only machine's user can announce itself, read its schedule
// and the unit contents, and report states, and nothing else: it can neither submit a job, nor
// schedule a unit (to itself or elsewhere), nor write another machine's keys. fleetctl's read-only
// user lists units but cannot change them; the engine's user schedules.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdAgentStore } from '../../registry/agent-store.js';
import { createEtcdClient } from '../../registry/client.js';
import { openEtcdRegistry } from '../../registry/etcd-registry.js';
import { etcdctlScript, planEtcdRoles } from '../../registry/etcd-roles.js';
import { journalReplyKey, requestJournal, serveJournalRequests } from '../../registry/journal-relay.js';
import { jobKey, machineObjectKey, scheduleKey, unitContentKey, unitStateKey } from '../../registry/keys.js';
import { encodeSchedule } from '../../registry/records.js';
import type { EtcdConnectionOptions } from '../../registry/types.js';
import { createLogger } from '../../units/log.js';
import { parseUnitFile } from '../../units/parse.js';
import { serializeUnit, unitHash } from '../../units/serialize.js';
import type { ScheduleRecord } from '../../units/types.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';

const PREFIX = '/fleet-sec/';
const M1 = 'machine1';
const M2 = 'machine2';
/** An engine machine: its user holds its own agent role and fleet-engine. */
const E1 = 'engine1';
const ROOT_PW = 'root-password-0123456789';
const AGENT_PW = 'agent-password-0123456789';

let dir = '';
let etcd: EtcdServer | undefined;
const clients: Etcd3[] = [];

const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A key and a certificate signed by the test CA, with `cn` as its subject CN. */
function issue(name: string, cn: string, server = false): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  openssl([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    csr,
    '-subj',
    `/CN=${cn}`,
  ]);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    server
      ? 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n'
      : 'extendedKeyUsage=clientAuth\n',
  );
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    cert,
    '-extfile',
    ext,
  ]);
  return { cert, key };
}

function etcdctl(
  args: string[],
  opts: { user?: string; input?: string; cert?: { cert: string; key: string } } = {},
): string {
  const cert = opts.cert ?? { cert: join(dir, 'root.crt'), key: join(dir, 'root.key') };
  return execFileSync('etcdctl', args, {
    input: opts.input ?? '',
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ETCDCTL_API: '3',
      ETCDCTL_ENDPOINTS: etcd?.endpoint ?? '',
      ETCDCTL_CACERT: join(dir, 'ca.crt'),
      ETCDCTL_CERT: cert.cert,
      ETCDCTL_KEY: cert.key,
      ...(opts.user ? { ETCDCTL_USER: opts.user } : {}),
    },
  }).toString();
}

/** Connection options over TLS: a client certificate, and a user/password when given. */
function conn(certName: string, user?: { username: string; password: string }): EtcdConnectionOptions {
  return {
    endpoints: [etcd?.endpoint ?? ''],
    keyPrefix: PREFIX,
    requestTimeoutMs: 5000,
    caFile: join(dir, 'ca.crt'),
    certFile: join(dir, `${certName}.crt`),
    keyFile: join(dir, `${certName}.key`),
    ...(user ?? {}),
  };
}
function client(certName: string, user?: { username: string; password: string }): Etcd3 {
  const c = createEtcdClient(conn(certName, user));
  clients.push(c);
  return c;
}

/** The error an etcd call fails with ('' when it succeeded). */
async function denied(p: unknown): Promise<string> {
  try {
    await (typeof p === 'function' ? (p as () => unknown)() : p);
    return '';
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
}

const UNIT = parseUnitFile('[Service]\nExecStart=/bin/sleep 1000\n');
const HASH = unitHash(UNIT);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-ts-etcd-sec-'));
  openssl([
    'req',
    '-x509',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=fleet-ts test CA',
  ]);
  const server = issue('server', 'etcd', true);
  issue('root', 'root');
  issue('agent1', 'fleet-agent-machine1'); // CN = the agent's etcd user
  issue('nobody', 'not-a-user'); // TLS only: the user comes from the password login
  issue('readonly', 'fleet-readonly');
  issue('engine', 'fleet-engine');
  issue('admin', 'fleet-admin');
  issue('engine1', `fleet-agent-${E1}`);
  etcd = await startEtcd({
    tls: { certFile: server.cert, keyFile: server.key, caFile: join(dir, 'ca.crt') },
  });

  // The operator's steps: a root user, authentication on, then the printed roles script.
  etcdctl(['user', 'add', 'root', '--interactive=false'], { input: `${ROOT_PW}\n` });
  etcdctl(['user', 'grant-role', 'root', 'root']);
  etcdctl(['auth', 'enable']);
  const script = join(dir, 'roles.sh');
  writeFileSync(script, etcdctlScript(planEtcdRoles(PREFIX, [M1, M2], [E1])));
  execFileSync('sh', [script], {
    stdio: 'pipe',
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ETCDCTL_ENDPOINTS: etcd.endpoint,
      ETCDCTL_CACERT: join(dir, 'ca.crt'),
      ETCDCTL_CERT: join(dir, 'root.crt'),
      ETCDCTL_KEY: join(dir, 'root.key'),
      ETCDCTL_USER: `root:${ROOT_PW}`,
    },
  });
  // Password logins: a user of the operator's own, given the machine's role (docs/etcd-security.md).
  etcdctl(['user', 'add', 'agent1-pw', '--interactive=false'], {
    user: `root:${ROOT_PW}`,
    input: `${AGENT_PW}\n`,
  });
  etcdctl(['user', 'grant-role', 'agent1-pw', `fleet-agent-${M1}`], { user: `root:${ROOT_PW}` });
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('etcd with TLS client certificates and authentication (issue 14 item 8)', () => {
  it('a client without a certificate from the CA cannot even connect', async () => {
    const c = createEtcdClient({
      ...conn('nobody'),
      certFile: undefined,
      keyFile: undefined,
    } as EtcdConnectionOptions);
    clients.push(c);
    expect(await denied(c.get('x').string())).not.toBe('');
  });

  it('the engine user schedules; an agent-only machine (password login over TLS) runs its schedule and nothing else', async () => {
    const engine = client('engine').namespace(PREFIX);
    const registry = openEtcdRegistry(conn('admin'));
    expect(
      await registry.createUnit({ name: 'web.service', hash: HASH, options: UNIT, desiredState: 'launched' }),
    ).toBe(true);
    await engine
      .put(scheduleKey(M1, 'web.service'))
      .value(encodeSchedule({ hash: HASH, desiredState: 'launched' }));
    await registry.close();

    const agentClient = client('nobody', { username: 'agent1-pw', password: AGENT_PW });
    const ns = agentClient.namespace(PREFIX);
    const log = createLogger('agent-sec', { level: 'silent' });
    const store = new EtcdAgentStore({ etcd: ns, machineID: M1, ttlMs: 10_000, log });
    await store.announce({
      id: M1,
      publicIP: '127.0.0.1',
      metadata: {},
      version: 'test',
      disableEngine: true,
    });
    let seen: ReadonlyMap<string, ScheduleRecord> = new Map();
    await store.watchSchedule(M1, (s) => {
      seen = s;
    });
    for (let i = 0; i < 100 && !seen.has('web.service'); i++) await sleep(50);
    expect(seen.get('web.service')).toEqual({ hash: HASH, desiredState: 'launched' });
    expect(await store.getUnitText(HASH)).toBe(serializeUnit(UNIT));
    await store.publishState('web.service', {
      hash: HASH,
      load: 'loaded',
      active: 'active',
      sub: 'running',
      agentState: 'launched',
    });
    expect(await engine.get(unitStateKey(M1, 'web.service')).string()).toContain('"active":"active"');
    expect(await engine.get(machineObjectKey(M1)).string()).toContain('127.0.0.1');

    // A compromised agent host cannot reschedule the cluster, submit units or speak for other machines.
    const job = { name: 'evil.service', hash: HASH, desiredState: 'launched' };
    const attempts: [string, () => unknown][] = [
      ['submit a job', () => ns.put(jobKey('evil.service')).value(JSON.stringify(job))],
      [
        'schedule to itself',
        () =>
          ns
            .put(scheduleKey(M1, 'evil.service'))
            .value(encodeSchedule({ hash: HASH, desiredState: 'launched' })),
      ],
      [
        'schedule elsewhere',
        () =>
          ns
            .put(scheduleKey(M2, 'evil.service'))
            .value(encodeSchedule({ hash: HASH, desiredState: 'launched' })),
      ],
      ['delete a schedule entry', () => ns.delete().key(scheduleKey(M1, 'web.service')).exec()],
      ["write another machine's state", () => ns.put(unitStateKey(M2, 'web.service')).value('{}')],
      ["write another machine's record", () => ns.put(machineObjectKey(M2)).value('{}')],
      ['replace unit contents', () => ns.put(unitContentKey(HASH)).value('[Service]\nExecStart=/bin/evil\n')],
      ['read the jobs', () => ns.getAll().prefix('job/').keys()],
      ["read another machine's schedule", () => ns.getAll().prefix(`schedule/${M2}/`).keys()],
      ['take the engine lead', () => ns.put('engine/leader').value(M1)],
    ];
    for (const [what, p] of attempts) expect(`${what}: ${await denied(p)}`).toMatch(/permission denied/);
    expect(await engine.get(scheduleKey(M1, 'web.service')).string()).not.toBeNull();
    expect(await engine.get(jobKey('evil.service')).string()).toBeNull();

    // Leaving revokes the lease: its record and states go with it (etcd checks write access to them).
    await store.leave();
    expect(await engine.get(machineObjectKey(M1)).string()).toBeNull();
    expect(await engine.get(unitStateKey(M1, 'web.service')).string()).toBeNull();
  });

  it('the engine role writes schedules but not jobs, machine records or unit states; an engine machine adds its own keys', async () => {
    const engine = client('engine').namespace(PREFIX);
    const schedule = encodeSchedule({ hash: HASH, desiredState: 'launched' });
    expect(await denied(engine.put(scheduleKey(M2, 'x.service')).value(schedule).exec())).toBe('');
    expect(await denied(engine.delete().key(scheduleKey(M2, 'x.service')).exec())).toBe('');
    expect(await denied(engine.put('engine/leader').value(M1).exec())).toBe('');
    await engine.delete().key('engine/leader');
    expect((await engine.getAll().prefix('job/').keys()).length).toBeGreaterThan(0);
    for (const [what, key] of [
      ['a job', jobKey('evil.service')],
      ["a machine's record", machineObjectKey(M2)],
      ["a machine's unit state", unitStateKey(M2, 'web.service')],
    ]) {
      expect(
        `${what}: ${await denied(
          engine
            .put(key as string)
            .value('{}')
            .exec(),
        )}`,
      ).toMatch(/permission denied/);
    }
    // fleetd on an engine machine: its own record and states, and schedules, under one certificate.
    const machine = client('engine1').namespace(PREFIX);
    expect(await denied(machine.put(unitStateKey(E1, 'x.service')).value('{}').exec())).toBe('');
    expect(await denied(machine.put(scheduleKey(M2, 'x.service')).value(schedule).exec())).toBe('');
    expect(await denied(machine.put(unitStateKey(M2, 'x.service')).value('{}').exec())).toMatch(
      /permission denied/,
    );
    await machine.delete().key(unitStateKey(E1, 'x.service'));
    await machine.delete().key(scheduleKey(M2, 'x.service'));
  });

  it('a client certificate whose CN is the user logs in without a password', async () => {
    const ns = client('agent1').namespace(PREFIX);
    expect(await denied(ns.put(unitStateKey(M1, 'x.service')).value('{}').exec())).toBe('');
    expect(await denied(ns.put(unitStateKey(M2, 'x.service')).value('{}').exec())).toMatch(
      /permission denied/,
    );
    await ns.delete().key(unitStateKey(M1, 'x.service'));
  });

  it("the console's journal relay: an agent-only machine answers its own requests, not another's", async () => {
    const agent = client('agent1').namespace(PREFIX);
    const relay = await serveJournalRequests(agent, M1, async (unit, n) => [`${unit} ${n}`], {
      warn: () => {},
    });
    const engine = client('engine').namespace(PREFIX);
    try {
      // The reply is put on the requester's lease; revoking it needs (and has) write access to both keys.
      expect(await requestJournal(engine, M1, 'web.service', 3)).toEqual(['web.service 3']);
      expect((await engine.getAll().prefix(`journal/${M1}/`).keys()).length).toBe(0);
      expect(await denied(agent.put(journalReplyKey(M2, 'x')).value('{"lines":[]}').exec())).toMatch(
        /permission denied/,
      );
    } finally {
      await relay.stop();
    }
  });

  it("fleetctl's read-only user lists units but cannot change them", async () => {
    const ro = openEtcdRegistry(conn('readonly'));
    try {
      expect((await ro.listUnits()).map((u) => u.name)).toContain('web.service');
      expect(await denied(ro.setDesiredState('web.service', 'inactive'))).toMatch(/permission denied/);
      expect(await denied(ro.destroyUnit('web.service'))).toMatch(/permission denied/);
    } finally {
      await ro.close();
    }
  });
});
