// 2,000 idle connections without a token against fleetd's TCP API, in a process limited to 1,024
// descriptors like a default fleetd: the connections are shed within 10 s and the agent's work —
// writing unit files, running systemctl — never fails meanwhile (issue 14). Before, Node's defaults
// kept every idle connection (no cap, minutes of timeouts) and the agent got EMFILE on everything.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { API_IDLE_TIMEOUT_MS } from '../../api/server-limits.js';
import { type ApiChild, spawnApiChild } from '../support/api-child-process.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { http } from './api-helpers.js';

const TOKEN = 'token-0123456789abcdef';
const CONNECTIONS = 2000;
/** Issue 14's bound on shedding them, from the moment they are all open. */
const SHED_WITHIN_MS = 10_000;

let etcd: EtcdServer;
let dir: string;
let child: ApiChild;

beforeAll(async () => {
  etcd = await startEtcd();
  dir = mkdtempSync(join(tmpdir(), 'fleet-ts-api-conn-'));
});
afterAll(async () => {
  await child?.stop();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it(`${CONNECTIONS} idle unauthenticated connections are shed within ${SHED_WITHIN_MS / 1000} s; the agent's writes and systemctl keep working`, async () => {
  const config = {
    apiSocket: '',
    apiListen: '127.0.0.1:0',
    apiToken: TOKEN,
    apiTlsCert: '',
    apiTlsKey: '',
    apiTlsClientCa: '',
    tokenLimit: 100,
  };
  child = spawnApiChild(['prlimit', '--nofile=1024:1024', '--'], {
    ETCD: etcd.endpoint,
    API_CONFIG: JSON.stringify(config),
    AGENT_DIR: dir,
  });
  const { addresses } = (await child.next()) as { addresses: string[] };
  const port = Number(new URL(addresses[0] as string).port);

  const sockets: Socket[] = [];
  let closed = 0;
  let lastClose = 0;
  await Promise.all(
    Array.from(
      { length: CONNECTIONS },
      () =>
        new Promise<void>((resolve) => {
          const s = connect(port, '127.0.0.1');
          sockets.push(s);
          s.on('error', () => {});
          s.once('connect', () => resolve());
          s.once('close', () => {
            closed++;
            lastClose = Date.now();
            resolve();
          });
        }),
    ),
  );
  const allOpened = Date.now();
  const deadline = allOpened + SHED_WITHIN_MS + 5_000;
  while (closed < CONNECTIONS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const shed = closed;
  const shedMs = Math.max(0, lastClose - allOpened);
  // Under load the server's accept queue overflows and the kernel drops some handshakes' last step:
  // those sockets look open to this client but the server does not have them yet (no descriptor; the
  // kernel retries the handshake with a growing backoff). A byte completes or resets them; sent again
  // every 2 s, for a bound generous enough for a busy machine, they must all close.
  const probeDeadline = Date.now() + 60_000;
  while (closed < CONNECTIONS && Date.now() < probeDeadline) {
    for (const s of sockets) if (!s.destroyed) s.write('x');
    for (let i = 0; i < 20 && closed < CONNECTIONS; i++) await new Promise((r) => setTimeout(r, 100));
  }

  child.process.stdin?.write('report\n');
  const report = (await child.next()) as { ok: number; failed: number; errors: string[] };
  const authorized = await http(
    { host: '127.0.0.1', port, headers: { Authorization: `Bearer ${TOKEN}` } },
    'GET',
    '/fleet/v1/units',
  ).catch((err: Error) => ({ status: err.message }));
  console.log(
    `${CONNECTIONS} idle connections: ${shed} shed by the server, the last ${shedMs.toFixed(0)} ms after all were open, ` +
      `${closed - shed} never accepted (reset when probed) ` +
      `(idle timeout ${API_IDLE_TIMEOUT_MS} ms, bound ${SHED_WITHIN_MS} ms); agent steps ok ${report.ok}, failed ${report.failed} ${report.errors.join(',')}`,
  );
  for (const s of sockets) s.destroy();
  expect(closed).toBe(CONNECTIONS);
  expect(shedMs).toBeLessThan(SHED_WITHIN_MS);
  expect(report).toMatchObject({ failed: 0, errors: [] });
  expect(report.ok).toBeGreaterThan(0);
  expect(authorized.status).toBe(200);
}, 180_000);
