// Replacing one large unit 1,000 times keeps the heap flat (content caches are bounded by bytes) and,
// once the leader's cleanup ran, leaves one content in etcd (issue 14). Before, every replaced
// content stayed cached in the process and stored in etcd for ever: 300 replacements of a 170 KB unit
// took the heap from 13 to 68 MiB and left 300 contents.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startContentGc } from '../../engine/content-gc.js';
import { createLeaderElection, type LeaderElection } from '../../engine/leader.js';
import { type EtcdRegistry, openEtcdRegistry } from '../../registry/etcd-registry.js';
import { UNIT_CONTENT_PREFIX } from '../../registry/keys.js';
import { DEFAULT_CONTENT_CACHE_BYTES } from '../../units/byte-lru.js';
import { createLogger } from '../../units/log.js';
import { unitHash } from '../../units/serialize.js';
import type { UnitOption } from '../../units/types.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MiB = 1024 * 1024;
const log = createLogger('content-gc-test', { level: 'silent' });

let etcd: EtcdServer;
let reg: EtcdRegistry;
let leader: LeaderElection;

beforeAll(async () => {
  etcd = await startEtcd();
  reg = openEtcdRegistry({
    endpoints: [etcd.endpoint],
    keyPrefix: '/_coreos.com/fleet/',
    requestTimeoutMs: 10_000,
  });
  leader = createLeaderElection({ ns: reg.ns, machineID: 'm1', ttlSeconds: 10, log });
  leader.start();
});
afterAll(async () => {
  await leader?.stop();
  await reg?.close();
  await etcd?.stop();
});

/** A 170 KB unit whose contents differ by `i`. */
const bigUnit = (i: number): UnitOption[] => [
  { section: 'Unit', name: 'Description', value: `version ${i}` },
  { section: 'Service', name: 'ExecStart', value: '/bin/sleep infinity' },
  ...Array.from({ length: 85 }, (_, k) => ({
    section: 'Service',
    name: 'Environment',
    value: `V${k}=${String(i).padStart(8, '0')}${'x'.repeat(1980)}`,
  })),
];

const heapMiB = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / MiB;
};

it('1,000 replacements of a 170 KB unit: heap flat, one content left after the cleanup', async () => {
  const REPLACEMENTS = 1000;
  let options = bigUnit(0);
  let hash = unitHash(options);
  await reg.createUnit({ name: 'big.service', hash, options, desiredState: 'launched' });
  // Warm up (clients, caches of small things), then measure.
  for (let i = 1; i <= 20; i++) {
    const next = bigUnit(i);
    await reg.createUnit(
      { name: 'big.service', hash: unitHash(next), options: next, desiredState: 'launched' },
      { replace: true, expectHash: hash },
    );
    hash = unitHash(next);
    options = next;
  }
  const before = heapMiB();
  for (let i = 21; i <= REPLACEMENTS; i++) {
    const next = bigUnit(i);
    const ok = await reg.createUnit(
      { name: 'big.service', hash: unitHash(next), options: next, desiredState: 'launched' },
      { replace: true, expectHash: hash },
    );
    expect(ok).toBe(true);
    hash = unitHash(next);
    options = next;
    if (i % 100 === 0) await reg.getUnit('big.service'); // reads go through the content cache too
  }
  const after = heapMiB();
  const contentsBefore = (await reg.ns.getAll().prefix(UNIT_CONTENT_PREFIX).keys()).length;

  // The cleanup waits out its grace period: nothing is deleted at first sight.
  let now = 1_000_000;
  const gcLoop = startContentGc({
    ns: reg.ns,
    leader,
    log,
    graceMs: 60_000,
    now: () => now,
    intervalMs: 3_600_000,
  });
  for (let i = 0; i < 100 && !leader.isLeader(); i++) await new Promise((r) => setTimeout(r, 100));
  expect(leader.isLeader()).toBe(true);
  expect(await gcLoop.runOnce()).toBe(0);
  now += 60_000;
  const deleted = await gcLoop.runOnce();
  await gcLoop.stop();
  const left = await reg.ns.getAll().prefix(UNIT_CONTENT_PREFIX).keys();

  console.log(
    `${REPLACEMENTS} replacements of a ${(JSON.stringify(options).length / 1024).toFixed(0)} KB unit: heap ${before.toFixed(1)} -> ${after.toFixed(1)} MiB ` +
      `(cache bound ${DEFAULT_CONTENT_CACHE_BYTES / MiB} MiB); contents in etcd ${contentsBefore} -> ${left.length} (deleted ${deleted})`,
  );
  expect(after - before).toBeLessThan(DEFAULT_CONTENT_CACHE_BYTES / MiB + 16);
  expect(contentsBefore).toBe(REPLACEMENTS + 1);
  expect(left).toEqual([`${UNIT_CONTENT_PREFIX}${hash}`]);
  expect((await reg.getUnit('big.service'))?.options).toEqual(options);
}, 600_000);
