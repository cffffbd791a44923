// Every TCP listener enforces authentication, the socket-activated ones included (issue 14): before,
// a TCP socket passed by systemd was served without the token (only a warning was logged).
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiChild, spawnApiChild } from '../support/api-child-process.js';
import { apiListenConfig } from '../support/api-config.js';
import { type EtcdServer, freePort, startEtcd } from '../support/etcd.js';
import { http } from './api-helpers.js';

const TOKEN = 'token-0123456789abcdef';
let etcd: EtcdServer;

beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
});

const config = (extra: Record<string, unknown>) => JSON.stringify(apiListenConfig(extra));

/** systemd-socket-activate listening on 127.0.0.1:port; the first connection starts the API child. */
async function activated(extra: Record<string, unknown>): Promise<{ child: ApiChild; port: number }> {
  const port = await freePort();
  const child = spawnApiChild(
    ['/usr/bin/systemd-socket-activate', '-l', `127.0.0.1:${port}`, '-E', 'ETCD', '-E', 'API_CONFIG'],
    { ETCD: etcd.endpoint, API_CONFIG: config(extra) },
  );
  // Wait until systemd-socket-activate listens, then poke it so that it starts the child.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error(`systemd-socket-activate did not listen: ${child.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, port };
}

describe('socket-activated TCP listener', () => {
  it('without api_token it is refused: fleetd does not serve it and says why in one line', async () => {
    const { child, port } = await activated({});
    try {
      expect(await child.next()).toEqual({
        error: `socket-activated fd 3 (127.0.0.1:${port}) needs api_token or api_tls_client_ca (with api_tls_cert and api_tls_key): refusing to serve the API over TCP without authentication (api_insecure_unauthenticated_tcp=true overrides)`,
      });
    } finally {
      await child.stop();
    }
  }, 30_000);

  it('with api_token: 401 without the token, 200 with it', async () => {
    const { child, port } = await activated({ apiToken: TOKEN });
    try {
      expect(await child.next()).toEqual({ addresses: [`fd:3 tcp:127.0.0.1:${port}`] });
      const target = { host: '127.0.0.1', port };
      const denied = await http(target, 'GET', '/fleet/v1/units');
      expect(denied.status).toBe(401);
      const allowed = await http(
        { ...target, headers: { Authorization: `Bearer ${TOKEN}` } },
        'GET',
        '/fleet/v1/units',
      );
      expect(allowed.status).toBe(200);
    } finally {
      await child.stop();
    }
  }, 30_000);

  it('served without authentication only with api_insecure_unauthenticated_tcp=true', async () => {
    const { child, port } = await activated({ apiInsecureUnauthenticatedTcp: true });
    try {
      expect(await child.next()).toEqual({ addresses: [`fd:3 tcp:127.0.0.1:${port}`] });
      expect((await http({ host: '127.0.0.1', port }, 'GET', '/fleet/v1/units')).status).toBe(200);
    } finally {
      await child.stop();
    }
  }, 30_000);
});
