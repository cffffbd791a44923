// Every fleet-ts process given all members of a 3-member etcd cluster keeps working when etcd's leader
// member is killed: calls made during the election that follows are retried on the other members
// instead of failing with "leader changed" or "connection refused" (fleetctl failed so in CI).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEtcdClient } from '../../registry/client.js';
import { type EtcdCluster, startEtcdCluster } from '../support/etcd-cluster.js';

let cluster: EtcdCluster | undefined;

/** A step that does not finish in `ms` fails the test naming the step (not a bare 120 s test timeout). */
function step<T>(what: string, ms: number, p: PromiseLike<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

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
      await step(`round ${round}: put before the kill`, 20_000, client.put('warm').value('up'));
      const leader = await step(`round ${round}: find the leader`, 10_000, c.leader());
      expect(leader, 'a leader before the kill').toBeDefined();
      await step(`round ${round}: kill the leader member`, 10_000, leader?.kill() ?? Promise.resolve());
      for (let i = 0; i < 5; i++) {
        // A call may retry for up to its request timeout (3 s) per attempt: the bound only catches a hang.
        await step(
          `round ${round} call ${i}`,
          20_000,
          client
            .put(`k${round}-${i}`)
            .value('v')
            .then(() => client.get(`k${round}-${i}`).string()),
        )
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
}, 300_000);
