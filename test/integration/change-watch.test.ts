// The registry's change watch (the console's live updates) after a partition during which etcd
// compacted past the watch's revision: it watches again and reports a change, then keeps reporting.
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, it } from 'vitest';
import { watchChanges } from '../../registry/change-watch.js';
import { connect, TEST_PREFIX, waitFor } from '../support/campaign-fixtures.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

let etcd: EtcdServer;
let proxy: TcpProxy;
let direct: Etcd3;

beforeAll(async () => {
  etcd = await startEtcd();
  proxy = await startTcpProxy(etcd.endpoint);
  direct = connect(etcd.endpoint).client;
});
afterAll(async () => {
  direct?.close();
  await proxy?.close();
  await etcd?.stop();
});

it('watches again when its resume revision was compacted during a partition, and reports a change', async () => {
  const { client, ns } = connect(proxy.endpoint);
  const directNs = direct.namespace(TEST_PREFIX);
  let changes = 0;
  const watch = await watchChanges(ns, () => changes++);
  try {
    await directNs.put('job/a.service').value('1');
    await waitFor('the first change', async () => changes >= 1);
    proxy.cut();
    for (let i = 0; i < 5; i++) await directNs.put(`job/b${i}.service`).value('1');
    const now = await directNs.put('job/c.service').value('1');
    await direct.kv.compact({ revision: now.header.revision, physical: true });
    const before = changes;
    proxy.heal();
    // The missed writes cannot be replayed (compacted): the watch starts again and reports one change.
    await waitFor('a change after the partition', async () => changes > before, 30_000);
    const after = changes;
    await directNs.put('job/d.service').value('1');
    await waitFor('a change after the restart', async () => changes > after, 30_000);
  } finally {
    await watch.stop();
    client.close();
  }
});
