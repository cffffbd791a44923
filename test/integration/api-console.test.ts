// The web console's server side against a real etcd and fleetd's API listeners (no browser; the page
// itself is driven in test/e2e/console.test.ts): static files and their auth exemption, the snapshot
// JSON, the server-sent event stream following registry changes, one unit with its file, the journal.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../../api/listen.js';
import type { ConsoleJournal, ConsoleSnapshot, ConsoleUnitDetail } from '../../api/ui/schema.js';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import { requestJournal, serveJournalRequests } from '../../registry/journal-relay.js';
import { machineObjectKey, scheduleKey, unitStateKey } from '../../registry/keys.js';
import { unplacedKey } from '../../registry/ops-records.js';
import { encodeMachine, encodeSchedule, encodeState } from '../../registry/records.js';
import { writeConsole } from '../../scripts/build-console.mjs';
import { createLogger } from '../../units/log.js';
import { unitHash } from '../../units/serialize.js';
import type { UnitOption } from '../../units/types.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { http, type Target } from './api-helpers.js';

const PREFIX = '/_coreos.com/fleet/';
const TOKEN = 'console-token-0123456789';
const M1 = '07d9057b44b34f9aa5b45f8c19c375c6';
const M2 = '21e51b3c543a44839c2a4e0ec9177954';
let etcd: EtcdServer;
let reg: EtcdRegistry;
let server: ApiServer;
let dir: string;
let sock: Target;
let tcp: Target;
const journalCalls: [string, number][] = [];

const opts = (desc: string): UnitOption[] => [
  { section: 'Unit', name: 'Description', value: desc },
  { section: 'Service', name: 'ExecStart', value: '/bin/sleep infinity' },
];

beforeAll(async () => {
  // The same assets `npm run build` writes; fleetd reads them from dist/console/.
  writeConsole();
  etcd = await startEtcd();
  reg = openEtcdRegistry({
    endpoints: [etcd.endpoint],
    keyPrefix: PREFIX,
    requestTimeoutMs: 5000,
  });
  dir = mkdtempSync(join(tmpdir(), 'fleet-ts-console-'));
  server = await startApiServer(
    {
      apiSocket: join(dir, 'fleet.sock'),
      apiListen: '127.0.0.1:0',
      apiToken: TOKEN,
      apiTlsCert: '',
      apiTlsKey: '',
      apiTlsClientCa: '',
      tokenLimit: 100,
    },
    reg,
    createLogger('console-test', { level: 'silent' }),
    {
      env: {},
      journal: {
        machineID: M1,
        read: async (unit, lines) => {
          journalCalls.push([unit, lines]);
          return [`line of ${unit}`];
        },
      },
    },
  );
  sock = { socketPath: join(dir, 'fleet.sock') };
  const addr = server.addresses.find((a) => a.startsWith('http://')) as string;
  tcp = { host: '127.0.0.1', port: Number(addr.split(':').pop()) };
  for (const [id, ip] of [
    [M1, '10.0.0.1'],
    [M2, '10.0.0.2'],
  ] as const) {
    await reg.ns.put(machineObjectKey(id)).value(
      encodeMachine({
        id,
        publicIP: ip,
        metadata: { role: 'web' },
        version: '9.9.9',
        disableEngine: false,
      }),
    );
  }
  const o = opts('runs');
  const hash = unitHash(o);
  await reg.createUnit({ name: 'web.service', hash, options: o, desiredState: 'launched' });
  await reg.ns.put(scheduleKey(M1, 'web.service')).value(encodeSchedule({ hash, desiredState: 'launched' }));
  await reg.ns
    .put(unitStateKey(M1, 'web.service'))
    .value(encodeState({ hash, load: 'loaded', active: 'active', sub: 'running', agentState: 'launched' }));
  const p = opts('pinned');
  await reg.createUnit({ name: 'stuck.service', hash: unitHash(p), options: p, desiredState: 'launched' });
  await reg.ns
    .put(unplacedKey('stuck.service'))
    .value(
      JSON.stringify({ reason: 'no machine has metadata region=mars', since: new Date().toISOString() }),
    );
}, 60_000);

afterAll(async () => {
  await server?.close();
  await reg?.close();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const auth = (t: Target): Target => ({ ...t, headers: { Authorization: `Bearer ${TOKEN}` } });

describe('console static files', () => {
  it('serves the page, script and stylesheet under /ui/ with a same-origin-only policy', async () => {
    const page = await http(sock, 'GET', '/ui/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script src="app.js" defer></script>');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).not.toMatch(/https?:\/\//); // no CDN, no external fonts
    const js = await http(sock, 'GET', '/ui/app.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).toContain('/fleet/v1/console/events');
    expect((await http(sock, 'GET', '/ui/app.css')).status).toBe(200);
    const redirect = await http(sock, 'GET', '/ui');
    expect([redirect.status, redirect.headers.location]).toEqual([301, '/ui/']);
    expect((await http(sock, 'GET', '/ui/other.js')).status).toBe(404);
    expect((await http(sock, 'POST', '/ui/')).status).toBe(405);
  });

  it('over TCP the page loads without the token; every data request needs it', async () => {
    expect((await http(tcp, 'GET', '/ui/')).status).toBe(200);
    expect((await http(tcp, 'GET', '/ui/app.js')).status).toBe(200);
    expect((await http(tcp, 'GET', '/fleet/v1/console/snapshot')).status).toBe(401);
    expect((await http(tcp, 'GET', '/fleet/v1/console/events')).status).toBe(401);
    expect((await http(tcp, 'POST', '/ui/')).status).toBe(401);
    expect((await http(auth(tcp), 'GET', '/fleet/v1/console/snapshot')).status).toBe(200);
  });
});

describe('console JSON', () => {
  it('the snapshot lists machines with health and units with states and placement reasons', async () => {
    const r = await http(sock, 'GET', '/fleet/v1/console/snapshot');
    expect(r.status).toBe(200);
    const s = JSON.parse(r.body) as ConsoleSnapshot;
    expect(
      s.machines.map((m) => [m.id, m.primaryIP, m.version, m.units, m.drained, m.metadata.role]),
    ).toEqual([
      [M1, '10.0.0.1', '9.9.9', 1, false, 'web'],
      [M2, '10.0.0.2', '9.9.9', 0, false, 'web'],
    ]);
    const web = s.units.find((u) => u.name === 'web.service');
    expect(web).toMatchObject({ desiredState: 'launched', currentState: 'launched', machineID: M1 });
    expect(web?.states).toEqual([
      { machineID: M1, hash: unitHash(opts('runs')), load: 'loaded', active: 'active', sub: 'running' },
    ]);
    const stuck = s.units.find((u) => u.name === 'stuck.service');
    expect(stuck).toMatchObject({ currentState: 'inactive', reason: 'no machine has metadata region=mars' });
    expect(stuck?.machineID).toBeUndefined();
  });

  it('one unit comes with its file; an unknown one is 404', async () => {
    const r = await http(sock, 'GET', '/fleet/v1/console/units/web.service');
    const d = JSON.parse(r.body) as ConsoleUnitDetail;
    expect(d.file).toBe('[Unit]\nDescription=runs\n\n[Service]\nExecStart=/bin/sleep infinity\n');
    expect(d.unit.name).toBe('web.service');
    const missing = await http(sock, 'GET', '/fleet/v1/console/units/nope.service');
    expect([missing.status, JSON.parse(missing.body).error.message]).toEqual([404, 'unit does not exist']);
  });

  it("the journal of a unit on this machine is read here; on another, that machine's fleetd reads it", async () => {
    const r = await http(sock, 'GET', '/fleet/v1/console/units/web.service/journal?lines=20');
    expect(JSON.parse(r.body) as ConsoleJournal).toEqual({ machineID: M1, lines: ['line of web.service'] });
    expect(journalCalls).toEqual([['web.service', 20]]);
    // Machine 2's fleetd answers through etcd (registry/journal-relay.ts).
    const peer = openEtcdRegistry({ endpoints: [etcd.endpoint], keyPrefix: PREFIX, requestTimeoutMs: 5000 });
    const relay = await serveJournalRequests(peer.ns, M2, async (unit, n) => [`${unit} on m2 (${n})`], {
      warn: () => {},
    });
    try {
      const elsewhere = await http(sock, 'GET', `/fleet/v1/console/units/web.service/journal?machine=${M2}`);
      expect([elsewhere.status, JSON.parse(elsewhere.body)]).toEqual([
        200,
        { machineID: M2, lines: ['web.service on m2 (50)'] },
      ]);
    } finally {
      await relay.stop();
      await peer.close();
    }
    const stranger = await http(sock, 'GET', '/fleet/v1/console/units/web.service/journal?machine=ffff');
    expect([stranger.status, JSON.parse(stranger.body).error.message]).toEqual([
      404,
      'machine ffff is not in the cluster',
    ]);
    const unplaced = await http(sock, 'GET', '/fleet/v1/console/units/stuck.service/journal');
    expect(JSON.parse(unplaced.body).error.message).toBe('the unit is not running on any machine');
    const bad = await http(sock, 'GET', '/fleet/v1/console/units/web.service/journal?lines=100000');
    expect(bad.status).toBe(400);
  });

  it('a machine whose fleetd does not answer: one line, after the relay timeout', async () => {
    await expect(requestJournal(reg.ns, M2, 'web.service', 5, { timeoutMs: 300 })).rejects.toThrow(
      /^no answer within 0.3 s$/,
    );
    expect((await reg.ns.getAll().prefix(`journal/${M2}/`).keys()).length).toBe(0);
  });
});

/** Opens the event stream; `next(pred)` resolves with the first snapshot matching pred. */
function openEvents(t: Target) {
  const snapshots: ConsoleSnapshot[] = [];
  const waiters: { pred: (s: ConsoleSnapshot) => boolean; resolve: (s: ConsoleSnapshot) => void }[] = [];
  let buf = '';
  let status = 0;
  let contentType = '';
  const req = request(
    { socketPath: t.socketPath, path: '/fleet/v1/console/events', method: 'GET' },
    (res) => {
      status = res.statusCode ?? 0;
      contentType = String(res.headers['content-type']);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        for (let end = buf.indexOf('\n\n'); end !== -1; end = buf.indexOf('\n\n')) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          if (!block.includes('event: snapshot')) continue;
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          const s = JSON.parse((data as string).slice(6)) as ConsoleSnapshot;
          snapshots.push(s);
          for (const w of [...waiters]) {
            if (w.pred(s)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(s);
            }
          }
        }
      });
    },
  );
  req.on('error', () => {});
  req.end();
  return {
    status: () => status,
    contentType: () => contentType,
    next: (pred: (s: ConsoleSnapshot) => boolean) =>
      new Promise<ConsoleSnapshot>((resolve) => {
        const seen = snapshots.find(pred);
        if (seen) resolve(seen);
        else waiters.push({ pred, resolve });
      }),
    close: () => req.destroy(),
  };
}

describe('console events', () => {
  it('streams a snapshot at once and a new one after each registry change', async () => {
    const events = openEvents(sock);
    try {
      const first = await events.next(() => true);
      expect(events.status()).toBe(200);
      expect(events.contentType()).toBe('text/event-stream; charset=utf-8');
      expect(first.units.map((u) => u.name)).toContain('web.service');

      // A unit created through the API appears on the stream without asking.
      const o = opts('new');
      const put = await http(sock, 'PUT', '/fleet/v1/units/new.service', {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ desiredState: 'loaded', options: o }),
      });
      expect(put.status).toBe(201);
      const created = await events.next((s) => s.units.some((u) => u.name === 'new.service'));
      expect(created.units.find((u) => u.name === 'new.service')?.desiredState).toBe('loaded');

      // The agent's state report turns it active on the stream.
      await reg.ns
        .put(scheduleKey(M2, 'new.service'))
        .value(encodeSchedule({ hash: unitHash(o), desiredState: 'loaded' }));
      await reg.ns.put(unitStateKey(M2, 'new.service')).value(
        encodeState({
          hash: unitHash(o),
          load: 'loaded',
          active: 'active',
          sub: 'running',
          agentState: 'loaded',
        }),
      );
      const active = await events.next((s) =>
        s.units.some((u) => u.name === 'new.service' && u.states.some((st) => st.active === 'active')),
      );
      expect(active.units.find((u) => u.name === 'new.service')?.machineID).toBe(M2);

      // Drained through the API route the page uses.
      expect((await http(sock, 'PUT', `/fleet/v1/machines/${M2}/drain`)).status).toBe(204);
      await events.next((s) => s.machines.some((m) => m.id === M2 && m.drained));

      // Destroyed: gone from the stream.
      expect((await http(sock, 'DELETE', '/fleet/v1/units/new.service')).status).toBe(204);
      await events.next((s) => !s.units.some((u) => u.name === 'new.service'));
    } finally {
      events.close();
    }
  }, 30_000);
});
