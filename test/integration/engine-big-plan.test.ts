// A big plan must not cost the engine its leadership (issue 16: the 100k units / 1,000 machines point
// never finished because the leader fenced itself while planning). The engine proves its lease alive
// only with keepalives acknowledged less than ttl - margin ago (engine/leader.ts); a plan that holds the
// event loop longer than that used to depose the leader, whose successor planned again and fenced
// again. Here: 1,000 machines and 10,000 units that fit none of them (MachineMetadata=role=nowhere, so
// each with its own contents, so every plan checks each unit against every machine: seconds of CPU,
// but nothing to write), plus one unit
// that fits. The engine must place that unit without ever losing its first term.
import type { Etcd3, Namespace } from 'etcd3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Engine, startEngine } from '../../engine/engine.js';
import { createLeaderElection, type LeaderElection } from '../../engine/leader.js';
import { createEngineStore } from '../../registry/engine-store.js';
import { jobKey, machineObjectKey, unitContentKey } from '../../registry/keys.js';
import { encodeJob, encodeMachine } from '../../registry/records.js';
import { serializeUnit } from '../../units/serialize.js';
import type { UnitSpec } from '../../units/types.js';
import { connect, quietLog, serviceText, unitSpec, waitFor } from '../support/campaign-fixtures.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';

const MACHINES = 1000;
const UNPLACEABLE = 10_000;
/** Within etcd's default --max-txn-ops (128). */
const BATCH = 120;

let etcd: EtcdServer;
let client: Etcd3;
let ns: Namespace;
let engineClient: Etcd3 | undefined;
let leader: LeaderElection | undefined;
let engine: Engine | undefined;

beforeAll(async () => {
  etcd = await startEtcd();
  ({ client, ns } = connect(etcd.endpoint));
});

afterAll(async () => {
  await engine?.stop();
  await leader?.stop();
  engineClient?.close();
  client?.close();
  await etcd?.stop();
});

async function putAll(entries: readonly (readonly [string, string])[], leaseID?: string): Promise<void> {
  for (let i = 0; i < entries.length; i += BATCH) {
    const puts = entries.slice(i, i + BATCH).map(([k, v]) => {
      const put = ns.put(k).value(v);
      return leaseID ? put.lease(leaseID) : put;
    });
    await ns
      .if(entries[0]?.[0] ?? '', 'Version', '>', -1)
      .then(...puts)
      .commit();
  }
}

async function submit(units: readonly UnitSpec[]): Promise<void> {
  const contents = new Map(units.map((u) => [unitContentKey(u.hash), serializeUnit(u.options)]));
  await putAll([...contents]);
  await putAll(
    units.map((u) => [jobKey(u.name), encodeJob({ name: u.name, hash: u.hash, desiredState: 'launched' })]),
  );
}

it('keeps its lease while planning 10,000 units against 1,000 machines, and places the unit that fits', async () => {
  const lease = ns.lease(600);
  lease.on('lost', () => {});
  const leaseID = await lease.grant();
  await putAll(
    Array.from({ length: MACHINES }, (_, i) => {
      const id = `m${String(i).padStart(4, '0')}`;
      const m = {
        id,
        publicIP: '127.0.0.1',
        metadata: { role: 'db' },
        version: 'test',
        disableEngine: false,
      };
      return [machineObjectKey(id), encodeMachine(m)] as const;
    }),
    leaseID,
  );
  // Each with its own contents: the planner's per-requirements verdict cache cannot shortcut the checks.
  await submit([
    ...Array.from({ length: UNPLACEABLE }, (_, i) =>
      unitSpec(
        `nowhere${i}.service`,
        serviceText(['MachineMetadata=role=nowhere'], `ExecStart=/bin/sleep ${i}`),
      ),
    ),
    unitSpec('fits.service', serviceText(['MachineMetadata=role=db'])),
  ]);

  const c = connect(etcd.endpoint);
  engineClient = c.client;
  const log = quietLog('engine');
  // The default TTL of the bench and of a small fleet.conf: keepalives every 1.7 s, proof valid 4 s.
  leader = createLeaderElection({ ns: c.ns, machineID: 'engine-1', ttlSeconds: 5, log });
  const lost: string[] = [];
  let elected = 0;
  leader.on('elected', () => elected++);
  leader.on('deposed', (reason) => lost.push(reason));
  const placed: string[] = [];
  const planSeconds: number[] = [];
  engine = startEngine({
    store: createEngineStore(c.ns, log),
    leader,
    log,
    reconcileIntervalMs: 600_000, // only the first plan matters here
    machineID: 'engine-1',
    onPlanned: (s) => planSeconds.push(s),
    onCommitted: (changes) => {
      for (const ch of changes) if (ch.kind === 'put') placed.push(`${ch.unit} ${ch.machineID}`);
    },
  });
  leader.start();

  // Before the fix this never happened: each term fenced itself before its first write.
  await waitFor('a placement or a lost term', async () => placed.length > 0 || lost.length > 0, 300_000, 100);
  console.log(`plan of ${UNPLACEABLE + 1} units on ${MACHINES} machines took ${planSeconds.join(', ')} s`);
  expect(lost).toEqual([]);
  expect(placed).toEqual(['fits.service m0000']);
  expect(elected).toBe(1);
  expect(leader.isLeader()).toBe(true);
}, 600_000);
