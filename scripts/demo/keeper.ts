// The background process that owns the demo cluster (`demo.ts keeper N`).
// Design notes: docs/architecture.md, "scripts/demo/keeper.ts".
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errorMessage } from '../../units/common.js';
import { BIN_DIR, FLEETCTL, KNOWN_HOSTS, PROJECT, proc, SSH_KEY, WATCH_DIR, writeState } from './state.js';

/** Machine (and host) names demo1..N; the harness keeps nspawn's own names unique on this host. */
export function machineNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `demo${i + 1}`);
}

/**
 * What the user's shell needs after the demo: the demo key and known_hosts copied out of the harness's
 * temp dir into the state dir (the harness's copies are private to it), and a `fleetctl` on a PATH dir.
 */
function provisionAccess(sshKeyFile: string, knownHostsFile: string): void {
  mkdirSync(dirname(SSH_KEY), { recursive: true, mode: 0o700 });
  copyFileSync(sshKeyFile, SSH_KEY);
  chmodSync(SSH_KEY, 0o600);
  copyFileSync(`${sshKeyFile}.pub`, `${SSH_KEY}.pub`);
  copyFileSync(knownHostsFile, KNOWN_HOSTS);
  mkdirSync(BIN_DIR, { recursive: true });
  const wrapper = join(BIN_DIR, 'fleetctl');
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  writeFileSync(wrapper, `#!/bin/sh\nexec ${q(process.execPath)} ${q(FLEETCTL)} "$@"\n`);
  chmodSync(wrapper, 0o755);
}

export async function keeper(count: number): Promise<void> {
  const self = proc(process.pid);
  let stopping = false;
  const { createCluster } = await import('../../test/support/nspawn.js');
  const t0 = Date.now();
  let cluster: Awaited<ReturnType<typeof createCluster>> | undefined;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      let code = 0;
      try {
        await cluster?.teardown();
      } catch (err) {
        console.error(`teardown: ${errorMessage(err)}`);
        code = 1;
      }
      process.exit(code);
    })();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => {}); // the terminal that started the demo may close
  const names = machineNames(count);
  const watcher = names[0] as string;
  try {
    cluster = await createCluster({
      machines: names.map((name) => ({
        name,
        metadata: { role: 'worker' },
        // Short TTL: a lost machine's units move within seconds. The first machine also watches a
        // directory; its fleetd starts once that directory exists (a missing one is an error).
        fleetConf: { agent_ttl: '10s', ...(name === watcher ? { unit_watch_directory: WATCH_DIR } : {}) },
        startFleetd: name !== watcher,
      })),
      projectDir: PROJECT,
      startFleetd: true,
      fleetdEnv: { FLEET_LOG_LEVEL: 'warn' },
    });
    await cluster.execOk(watcher, ['mkdir', '-p', WATCH_DIR]);
    await cluster.startFleetd(watcher);
    provisionAccess(cluster.sshKeyFile, cluster.knownHostsFile);
  } catch (err) {
    writeState({ keeper: self, error: errorMessage(err) });
    await cluster?.teardown().catch(() => {});
    process.exit(1);
  }
  if (stopping) return; // teardown already under way
  const c = cluster;
  writeState({
    keeper: self,
    ready: true,
    bootMs: Date.now() - t0,
    bridge: c.bridge,
    endpoint: c.etcdEndpoint,
    etcd: { ...proc(c.etcd.pid()), dataDir: c.etcd.dataDir },
    machines: names.map((name) => {
      const m = c.machine(name);
      return {
        name,
        ip: m.ip,
        machineID: m.machineID,
        nspawn: proc(m.nspawnPid),
        leader: proc(m.leaderPid),
        watcher: name === watcher,
      };
    }),
  });
  console.log(`cluster ready on ${c.bridge}, etcd ${c.etcdEndpoint}`);
  setInterval(() => {}, 1 << 30); // hold the cluster until a signal
}
