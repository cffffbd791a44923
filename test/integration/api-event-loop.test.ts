// The worst unit files go through the API while an etcd lease is kept alive, and the event loop's
// delay histogram (perf_hooks.monitorEventLoopDelay) shows fleetd never froze. Before issue 14 one
// 40 KB unit of continuation lines stalled the loop 3.6 s, and the 100k-line unit below ran for
// minutes (its lease expired). The figure is printed; the assertion is generous (see MAX_BLOCK_MS).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Etcd3, Lease } from 'etcd3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../../api/listen.js';
import { createEtcdClient } from '../../registry/client.js';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import { createLogger } from '../../units/log.js';
import { UNIT_FILE_MAX_BYTES } from '../../units/parse.js';
import type { UnitOption } from '../../units/types.js';
import { apiListenConfig } from '../support/api-config.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { holdLease } from '../support/held-lease.js';
import { http, json, type Target } from './api-helpers.js';

// Issue 14's target is 200 ms of blocked loop. On a shared 2-core machine (load averages of 20-35 were
// seen while eight test runs shared it) a CPU-starved process's timers fire late however little work
// it does: 100 ms of work can take 2 s of wall time. So two figures are taken: the wall-clock delay
// histogram, bounded loosely (MAX_BLOCK_MS), and the CPU time this process used between two ticks of
// a 10 ms timer — the work of the longest synchronous block, which load does not inflate — bounded
// at MAX_BLOCK_CPU_MS. The old code failed both by minutes.
const MAX_BLOCK_MS = 5000;
const MAX_BLOCK_CPU_MS = 500;
const LEASE_TTL_S = 5;

let etcd: EtcdServer;
let reg: EtcdRegistry;
let client: Etcd3;
let server: ApiServer;
let dir: string;
let unix: Target;

beforeAll(async () => {
  etcd = await startEtcd();
  const conn = { endpoints: [etcd.endpoint], keyPrefix: '/_coreos.com/fleet/', requestTimeoutMs: 10_000 };
  reg = openEtcdRegistry(conn);
  client = createEtcdClient(conn);
  dir = mkdtempSync(join(tmpdir(), 'fleet-ts-api-loop-'));
  server = await startApiServer(
    apiListenConfig({ apiSocket: join(dir, 'fleet.sock') }),
    reg,
    createLogger('api-loop-test', { level: 'silent' }),
    { env: {} },
  );
  unix = { socketPath: join(dir, 'fleet.sock') };
});

afterAll(async () => {
  await server?.close();
  await reg?.close();
  client?.close();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const service: UnitOption = { section: 'Service', name: 'ExecStart', value: '/bin/sleep infinity' };
const xf = (name: string, value: string): UnitOption => ({ section: 'X-Fleet', name, value });
const put = (name: string, options: UnitOption[]) =>
  http(unix, 'PUT', `/fleet/v1/units/${name}`, json({ desiredState: 'launched', options }));

it(`the worst inputs through the API never block the event loop for ${MAX_BLOCK_MS} ms; a ${LEASE_TTL_S} s lease survives`, async () => {
  const lease: Lease = client.lease(LEASE_TTL_S);
  const leaseLost = await holdLease(lease);
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let maxBlockCpuMs = 0;
  let lastCpu = process.cpuUsage();
  const ticker = setInterval(() => {
    const used = process.cpuUsage(lastCpu);
    lastCpu = process.cpuUsage();
    maxBlockCpuMs = Math.max(maxBlockCpuMs, (used.user + used.system) / 1000);
  }, 10);

  // 100,000 continuation lines in one value (400 KB; before: minutes of blocked loop).
  const continued = `/bin/echo \\\n${'x \\\n'.repeat(100_000)}end`;
  expect(
    (await put('cont.service', [{ section: 'Service', name: 'ExecStart', value: continued }])).status,
  ).toBe(201);
  // 5,000 Conflicts × 5,000 MachineOf (before: about a minute).
  const xfleet = [service];
  for (let i = 0; i < 5000; i++)
    xfleet.push(xf('Conflicts', `c${i}.service`), xf('MachineOf', `p${i}.service`));
  expect((await put('xfleet.service', xfleet)).status).toBe(201);
  // Wildcards × peers beyond the cap: refused at once.
  const globs = [service];
  for (let i = 0; i < 600; i++)
    globs.push(xf('Conflicts', `c${i}@*.service`), xf('MachineOf', `p${i}.service`));
  const capped = await put('globs.service', globs);
  expect(capped.status).toBe(400);
  expect(capped.body).toContain('too many [X-Fleet] combinations');
  // A unit just over the size cap: refused with the position.
  const big = [service];
  for (let i = 0; i < 270; i++)
    big.push({ section: 'Service', name: 'Environment', value: `V${i}=${'v'.repeat(1990)}` });
  const tooBig = await put('big.service', big);
  expect(tooBig.status).toBe(400);
  expect(tooBig.body).toContain(`larger than the limit of ${UNIT_FILE_MAX_BYTES} bytes`);
  // A 1 MiB body of nested arrays.
  const nested = await http(unix, 'PUT', '/fleet/v1/units/nest.service', {
    headers: { 'Content-Type': 'application/json' },
    body: `${'['.repeat(500_000)}${']'.repeat(500_000)}`,
  });
  expect(nested.status).toBe(400);
  expect(nested.body).toContain('JSON nested deeper than 32 levels at offset 32');
  // Listing and reading the heavy units back, several times.
  for (let i = 0; i < 3; i++) {
    const list = await http(unix, 'GET', '/fleet/v1/units');
    expect(list.status).toBe(200);
    expect((JSON.parse(list.body) as { units: unknown[] }).units).toHaveLength(2);
    expect((await http(unix, 'GET', '/fleet/v1/units/cont.service')).status).toBe(200);
  }

  histogram.disable();
  clearInterval(ticker);
  const maxMs = histogram.max / 1e6;
  console.log(
    `event-loop delay while the worst inputs went through the API: max ${maxMs.toFixed(0)} ms, ` +
      `p99 ${(histogram.percentile(99) / 1e6).toFixed(0)} ms, mean ${(histogram.mean / 1e6).toFixed(1)} ms ` +
      `(target 200 ms; test bound ${MAX_BLOCK_MS} ms); longest block ${maxBlockCpuMs.toFixed(0)} ms of CPU ` +
      `(bound ${MAX_BLOCK_CPU_MS} ms); lease lost: ${leaseLost()}`,
  );
  // The lease is still alive at etcd: keepalives went out in time.
  expect(leaseLost()).toBe(false);
  const ttl = await client.leaseClient.leaseTimeToLive({ ID: await lease.grant() });
  expect(Number(ttl.TTL)).toBeGreaterThan(0);
  expect(maxMs).toBeLessThan(MAX_BLOCK_MS);
  expect(maxBlockCpuMs).toBeLessThan(MAX_BLOCK_CPU_MS);
  await lease.revoke();
}, 120_000);
