// fleetd as a process against a real etcd: Prometheus metrics and /health on the API socket and on
// metrics_listen; every documented metric name is exported. The only unit it is given cannot be
// placed (metadata nobody has), so the real systemctl driver is never called on this host.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3, Namespace } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../../metrics/metrics.js';
import { etcdRegistryOn } from '../../registry/etcd-registry.js';
import { ENGINE_LEADER_KEY } from '../../registry/keys.js';
import { unitHash } from '../../units/serialize.js';
import { type EtcdServer, freePort, startEtcd } from '../support/etcd.js';
import { connect, PREFIX, waitFor } from './agent-helpers.js';

const FLEETD = new URL('../../cli/fleetd.ts', import.meta.url).pathname;
const DOCS = new URL('../../docs/operations.md', import.meta.url).pathname;
const MACHINE_ID = readFileSync('/etc/machine-id', 'utf8').trim();

let etcd: EtcdServer;
let client: Etcd3;
let ns: Namespace;
let dir: string;
let child: ChildProcess | undefined;
let port: number;

interface Reply {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

function fetchVia(target: { socketPath: string } | { port: number }, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = get({ ...target, host: '127.0.0.1', path }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
      );
    });
    req.on('error', reject);
  });
}

beforeAll(async () => {
  etcd = await startEtcd();
  ({ client, ns } = connect(etcd.endpoint));
  dir = await mkdtemp(join(tmpdir(), 'fleet-ts-metrics-'));
  port = await freePort();
  child = spawn(process.execPath, ['--import', 'tsx', FLEETD], {
    stdio: ['ignore', 'ignore', 'ignore'],
    env: {
      ...process.env,
      FLEET_ETCD_SERVERS: etcd.endpoint,
      FLEET_ETCD_KEY_PREFIX: PREFIX,
      FLEET_UNITS_DIRECTORY: join(dir, 'units'),
      FLEET_API_SOCKET: join(dir, 'fleet.sock'),
      FLEET_METRICS_LISTEN: `:${port}`,
      FLEET_AGENT_TTL: '10s',
      FLEET_ENGINE_RECONCILE_INTERVAL: '1',
    },
  });
  await waitFor(
    'engine leader',
    async () => (await ns.get(ENGINE_LEADER_KEY).string()) === MACHINE_ID,
    30_000,
  );
}, 60_000);

afterAll(async () => {
  if (child?.pid && child.exitCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  client?.close();
  await etcd?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('fleetd metrics and health', () => {
  it('serves every documented metric on the API socket and on metrics_listen (loopback)', async () => {
    const reg = etcdRegistryOn(ns);
    const options = [
      { section: 'Service', name: 'ExecStart', value: '/bin/true' },
      { section: 'X-Fleet', name: 'MachineMetadata', value: 'role=none' },
    ];
    await reg.createUnit({
      name: 'nowhere.service',
      hash: unitHash(options),
      options,
      desiredState: 'launched',
    });
    const sock = { socketPath: join(dir, 'fleet.sock') };
    const scrape = (await waitFor(
      'the unplaceable unit in the metrics',
      async () => {
        const r = await fetchVia(sock, '/metrics');
        return /^fleet_engine_unplaceable_units 1$/m.test(r.body) ? r : null;
      },
      20_000,
    )) as Reply;
    expect(scrape.status).toBe(200);
    expect(scrape.type).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of METRIC_NAMES) expect(scrape.body).toContain(`# TYPE ${name} `);
    expect(scrape.body).toMatch(/^fleet_engine_leader 1$/m);
    expect(scrape.body).toMatch(/^fleet_engine_leadership_changes_total\{change="elected"\} 1$/m);
    expect(scrape.body).toMatch(/^fleet_units\{desired_state="launched",current_state="inactive"\} 1$/m);
    expect(scrape.body).toMatch(/^fleet_engine_reconcile_duration_seconds_count [1-9]\d*$/m);
    expect(scrape.body).toMatch(/^fleet_etcd_request_duration_seconds_count [1-9]\d*$/m);

    const tcp = await fetchVia({ port }, '/metrics');
    expect(tcp.status).toBe(200);
    // The first scrape was counted by the API socket's server.
    expect(tcp.body).toMatch(/^fleet_api_requests_total\{route="\/metrics",code="200"\} [1-9]\d*$/m);
    expect((await fetchVia({ port }, '/fleet/v1/units')).status).toBe(404); // metrics_listen serves no API

    // The documentation names every metric.
    const docs = readFileSync(DOCS, 'utf8');
    for (const name of METRIC_NAMES) expect(docs).toContain(name);
    // And every metric the documentation's table names is in the scrape (none documented but missing).
    const documented = [...docs.matchAll(/^\| `(fleet_[a-z_]+)` \|/gm)].map((m) => m[1] as string);
    expect(documented.length).toBeGreaterThanOrEqual(15);
    for (const name of documented) expect(scrape.body).toContain(`# TYPE ${name} `);
  });

  it('/health says ok with the machine, version and engine role', async () => {
    for (const target of [{ socketPath: join(dir, 'fleet.sock') }, { port }]) {
      const r = await fetchVia(target, '/health');
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({
        status: 'ok',
        machine: MACHINE_ID,
        engine: 'leader',
        etcd: 'ok',
      });
    }
  });
});
