// The API's listeners: socket activation (a real systemd-socket-activate hands fleetd the fd), the
// unix socket fleetd opens itself (mode, stale-file handling), TCP only with a bearer token or TLS
// client certificates, and a registry swap (SIGHUP) that keeps the sockets open.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiListenConfig, activatedFds, bearerMatches, startApiServer } from '../../api/listen.js';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import { createLogger } from '../../units/log.js';
import { unitHash } from '../../units/serialize.js';
import { apiListenConfig } from '../support/api-config.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { http, type Target } from './api-helpers.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const log = createLogger('api-listen-test', { level: 'silent' });
let etcd: EtcdServer;
let reg: EtcdRegistry;
let dir: string;

const base: ApiListenConfig = apiListenConfig({ apiInsecureUnauthenticatedTcp: false });
const opts = [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }];

beforeAll(async () => {
  etcd = await startEtcd();
  reg = openEtcdRegistry({
    endpoints: [etcd.endpoint],
    keyPrefix: '/_coreos.com/fleet/',
    requestTimeoutMs: 5000,
  });
  await reg.createUnit({
    name: 'one.service',
    hash: unitHash(opts),
    options: opts,
    desiredState: 'inactive',
  });
  dir = mkdtempSync(join(tmpdir(), 'fleet-ts-api-listen-'));
});

afterAll(async () => {
  await reg?.close();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const unitNames = async (t: Target): Promise<string[]> => {
  const r = await http(t, 'GET', '/fleet/v1/units');
  expect(r.status).toBe(200);
  return ((JSON.parse(r.body) as { units?: { name: string }[] }).units ?? []).map((u) => u.name);
};

describe('socket activation', () => {
  it('LISTEN_FDS is honoured only for our own PID', () => {
    expect(activatedFds({ LISTEN_FDS: '2', LISTEN_PID: '42' }, 42)).toEqual([3, 4]);
    expect(activatedFds({ LISTEN_FDS: '2', LISTEN_PID: '41' }, 42)).toEqual([]);
    expect(activatedFds({}, 42)).toEqual([]);
    expect(() => activatedFds({ LISTEN_FDS: 'x', LISTEN_PID: '42' }, 42)).toThrow(/LISTEN_FDS/);
  });

  it('serves the socket systemd-socket-activate passes as fd 3 (and does not open api_socket)', async () => {
    const sock = join(dir, 'activated.sock');
    const own = join(dir, 'own.sock');
    const code = `
      import { startApiServer } from ${JSON.stringify(join(ROOT, 'api/listen.ts'))};
      import { openEtcdRegistry } from ${JSON.stringify(join(ROOT, 'registry/etcd-registry.ts'))};
      import { createLogger } from ${JSON.stringify(join(ROOT, 'units/log.ts'))};
      const reg = openEtcdRegistry({ endpoints: [process.env.ETCD], keyPrefix: '/_coreos.com/fleet/', requestTimeoutMs: 5000 });
      const s = await startApiServer({ apiSocket: process.env.OWN, apiListen: '', apiToken: '', apiTlsCert: '',
        apiTlsKey: '', apiTlsClientCa: '', tokenLimit: 100, apiInsecureUnauthenticatedTcp: false }, reg, createLogger('child', { level: 'silent' }));
      console.log(JSON.stringify({ addresses: s.addresses, left: process.env.LISTEN_FDS ?? null }));
    `;
    const script = join(dir, 'activated-child.mts');
    writeFileSync(script, code);
    let child: ChildProcess | undefined;
    try {
      child = spawn(
        '/usr/bin/systemd-socket-activate',
        // systemd-socket-activate passes only the variables named with -E (and LISTEN_*).
        [
          '-l',
          sock,
          '-E',
          `ETCD=${etcd.endpoint}`,
          '-E',
          `OWN=${own}`,
          process.execPath,
          '--import',
          'tsx',
          script,
        ],
        {
          cwd: ROOT,
          env: { ...process.env, ETCD: etcd.endpoint, OWN: own },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      let err = '';
      child.stdout?.on('data', (d) => {
        out += d.toString();
      });
      child.stderr?.on('data', (d) => {
        err += d.toString();
      });
      const deadline = Date.now() + 10_000;
      while (!existsSync(sock)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no activated socket: ${err}`);
        await sleep(50);
      }
      // The first connection makes systemd-socket-activate exec node with the listening fd as fd 3.
      expect(await unitNames({ socketPath: sock }).catch((e: Error) => `${e.message}: ${err}`)).toEqual([
        'one.service',
      ]);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      expect(JSON.parse(line as string)).toEqual({ addresses: ['fd:3'], left: null });
      expect(existsSync(own)).toBe(false);
    } finally {
      if (child?.pid && child.exitCode === null) {
        const exited = new Promise((r) => child?.once('exit', r));
        process.kill(child.pid, 'SIGTERM');
        await exited;
      }
    }
  }, 180_000);
});

describe('the unix socket fleetd opens itself', () => {
  it('is mode 0660, replaces a stale socket file, and is removed on close', async () => {
    const path = join(dir, 'stale.sock');
    // A socket file nobody listens on (a crashed fleetd's leftover).
    execFileSync('python3', [
      '-c',
      `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path)})`,
    ]);
    expect(statSync(path).isSocket()).toBe(true);
    const s = await startApiServer({ ...base, apiSocket: path }, reg, log, { env: {} });
    try {
      expect(statSync(path).mode & 0o777).toBe(0o660);
      expect(await unitNames({ socketPath: path })).toEqual(['one.service']);
    } finally {
      await s.close();
    }
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a socket another process serves, and a path that is not a socket', async () => {
    const path = join(dir, 'busy.sock');
    const other: Server = createServer();
    await new Promise<void>((r) => other.listen(path, r));
    try {
      await expect(startApiServer({ ...base, apiSocket: path }, reg, log, { env: {} })).rejects.toThrow(
        `api_socket ${path} is in use by another process`,
      );
      expect(statSync(path).isSocket()).toBe(true);
    } finally {
      await new Promise((r) => other.close(r));
    }
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'keep me');
    await expect(startApiServer({ ...base, apiSocket: file }, reg, log, { env: {} })).rejects.toThrow(
      'exists and is not a socket',
    );
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('keeps its socket open while the registry is swapped (SIGHUP)', async () => {
    const path = join(dir, 'swap.sock');
    const other = openEtcdRegistry({
      endpoints: [etcd.endpoint],
      keyPrefix: '/other/',
      requestTimeoutMs: 5000,
    });
    const s = await startApiServer({ ...base, apiSocket: path }, reg, log, { env: {} });
    try {
      await other.createUnit({
        name: 'two.service',
        hash: unitHash(opts),
        options: opts,
        desiredState: 'inactive',
      });
      const inode = statSync(path).ino;
      expect(await unitNames({ socketPath: path })).toEqual(['one.service']);
      s.setRegistry(other);
      expect(await unitNames({ socketPath: path })).toEqual(['two.service']);
      expect(statSync(path).ino).toBe(inode);
    } finally {
      await s.close();
      await other.ns.delete().all();
      await other.close();
    }
  });
});

describe('TCP (api_listen)', () => {
  it('refuses to start without a token or client certificates, opening nothing', async () => {
    const path = join(dir, 'never.sock');
    await expect(
      startApiServer({ ...base, apiSocket: path, apiListen: '127.0.0.1:0' }, reg, log, { env: {} }),
    ).rejects.toThrow(/refusing to serve the API over TCP without authentication/);
    expect(existsSync(path)).toBe(false);
  });

  it('bearer token: 401 without or with a wrong token, 200 with the right one', async () => {
    const s = await startApiServer(
      { ...base, apiListen: '127.0.0.1:0', apiToken: 's3cret-0123456789abcdef' },
      reg,
      log,
      {
        env: {},
      },
    );
    try {
      const url = new URL(s.addresses[0] as string);
      const t = (auth?: string): Target => ({
        host: '127.0.0.1',
        port: Number(url.port),
        ...(auth ? { headers: { Authorization: auth } } : {}),
      });
      for (const auth of [
        undefined,
        'Bearer wrong',
        'Bearer s3cret-0123456789abcde',
        'Basic czNjcmV0',
        's3cret-0123456789abcdef',
      ]) {
        const r = await http(t(auth), 'GET', '/fleet/v1/units');
        expect([auth, r.status, r.headers['www-authenticate']]).toEqual([auth, 401, 'Bearer']);
        expect(JSON.parse(r.body)).toEqual({
          error: { code: 401, message: 'missing or invalid bearer token' },
        });
      }
      expect(await unitNames(t('Bearer s3cret-0123456789abcdef'))).toEqual(['one.service']);
    } finally {
      await s.close();
    }
    expect(bearerMatches('bearer s3cret', 's3cret')).toBe(true);
    expect(bearerMatches(undefined, '')).toBe(false);
  });

  it('TLS with client certificates: no certificate, no connection; a CA-signed one is served', async () => {
    const pki = join(dir, 'pki');
    execFileSync('mkdir', ['-p', pki]);
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: pki, stdio: 'pipe' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=test-ca',
      '-days',
      '1',
    );
    for (const who of ['server', 'client']) {
      ssl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${who}.key`,
        '-out',
        `${who}.csr`,
        '-subj',
        `/CN=${who}`,
      );
      writeFileSync(
        join(pki, `${who}.ext`),
        who === 'server' ? 'subjectAltName=IP:127.0.0.1\n' : 'extendedKeyUsage=clientAuth\n',
      );
      ssl(
        'x509',
        '-req',
        '-in',
        `${who}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${who}.crt`,
        '-days',
        '1',
        '-extfile',
        `${who}.ext`,
      );
    }
    const s = await startApiServer(
      {
        ...base,
        apiListen: '127.0.0.1:0',
        apiTlsCert: join(pki, 'server.crt'),
        apiTlsKey: join(pki, 'server.key'),
        apiTlsClientCa: join(pki, 'ca.crt'),
      },
      reg,
      log,
      { env: {} },
    );
    try {
      const url = new URL(s.addresses[0] as string);
      expect(url.protocol).toBe('https:');
      const ca = readFileSync(join(pki, 'ca.crt'));
      const target = (withCert: boolean): Target => ({
        host: '127.0.0.1',
        port: Number(url.port),
        tls: withCert
          ? { ca, cert: readFileSync(join(pki, 'client.crt')), key: readFileSync(join(pki, 'client.key')) }
          : { ca },
      });
      await expect(http(target(false), 'GET', '/fleet/v1/units')).rejects.toThrow();
      expect(await unitNames(target(true))).toEqual(['one.service']);
    } finally {
      await s.close();
    }
  }, 180_000);
});
