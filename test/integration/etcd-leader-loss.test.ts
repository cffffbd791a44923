// Every fleet-ts process given all members of a 3-member etcd cluster keeps working when etcd's leader
// member is killed: calls made during the election that follows are retried on the other members
// instead of failing with "leader changed" or "connection refused" (fleetctl failed so in CI).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEtcdClient } from '../../registry/client.js';
import { type EtcdCluster, startEtcdCluster } from '../support/etcd-cluster.js';

let cluster: EtcdCluster | undefined;

beforeAll(async () => {
  cluster = await startEtcdCluster({ members: 3 });
  await cluster.waitHealthy(30_000);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

it('writes and reads made right after the leader member is killed all succeed', async () => {
  const c = cluster as EtcdCluster;
  const failures: string[] = [];
  for (let round = 0; round < 3; round++) {
    const client = createEtcdClient({
      endpoints: c.endpoints.split(','),
      keyPrefix: '/',
      requestTimeoutMs: 3000,
    });
    try {
      await client.put('warm').value('up');
      const leader = await c.leader();
      expect(leader, 'a leader before the kill').toBeDefined();
      await leader?.kill();
      for (let i = 0; i < 5; i++) {
        await client
          .put(`k${round}-${i}`)
          .value('v')
          .then(() => client.get(`k${round}-${i}`).string())
          .then((v) => expect(v).toBe('v'))
          .catch((err: Error) => failures.push(`round ${round} call ${i}: ${err.message.split('\n')[0]}`));
      }
      leader?.start();
      await c.waitHealthy(30_000);
    } finally {
      client.close();
    }
  }
  expect(failures).toEqual([]);
}, 120_000);
