// The cluster's network: a bridge flbrN with subnet 10.231.N.0/24 (host side .1, where etcd also
// listens), each machine's host0 on it, and partitions that cut a machine off from etcd.
import { run, runOk } from './process.js';
import { cleanupStaleCluster } from './state-file.js';
import type { ClusterState, MachineRecord } from './types.js';

/**
 * Creates the first flbrN that does not exist yet (parallel test files get different subnets) and
 * records it in `state` as soon as it exists, so cleanup removes it even if a later step fails.
 */
export async function createBridge(state: ClusterState, bridgeIndex: number | undefined): Promise<string> {
  const indices = bridgeIndex !== undefined ? [bridgeIndex] : Array.from({ length: 20 }, (_, i) => i);
  for (const n of indices) {
    const name = `flbr${n}`;
    cleanupStaleCluster(name);
    const r = await run('ip', ['link', 'add', name, 'type', 'bridge']);
    if (r.code !== 0) continue;
    state.bridge = name;
    const hex = n.toString(16).padStart(2, '0');
    // Fixed MAC: a bridge otherwise takes its lowest port MAC, which changes when that machine
    // goes away, and the other machines lose the host until their neighbour caches expire.
    await runOk('ip', ['link', 'set', name, 'address', `02:00:0a:e7:${hex}:01`]);
    await runOk('ip', ['addr', 'add', `10.231.${n}.1/24`, 'dev', name]);
    await runOk('ip', ['link', 'set', name, 'up']);
    return name;
  }
  throw new Error(`no free bridge among ${indices.map((i) => `flbr${i}`).join(',')}`);
}

export interface AddressPool {
  /** nspawn's --machine name: bridge index and a per-cluster boot counter (flNmK). */
  nextNspawnName(): string;
  /** The requested address, or the next free 10.231.N.(10+k). */
  claimIP(requested: string | undefined): string;
}

export function addressPool(subnet: string): AddressPool {
  let nextHost = 11;
  let bootCount = 0;
  const usedIPs = new Set<string>();
  return {
    nextNspawnName: () => `fl${subnet}m${++bootCount}`,
    claimIP: (requested) => {
      let ip = requested;
      if (!ip) {
        while (usedIPs.has(`10.231.${subnet}.${nextHost}`)) nextHost++;
        ip = `10.231.${subnet}.${nextHost++}`;
      }
      usedIPs.add(ip);
      return ip;
    },
  };
}

/** Address, link and default route of host0 inside the machine's network namespace. */
export async function configureHost0(leaderPid: number, ip: string, hostIP: string): Promise<void> {
  const netns = ['nsenter', '-t', String(leaderPid), '-n', '--'];
  await runOk(netns[0] ?? 'nsenter', [...netns.slice(1), 'ip', 'addr', 'add', `${ip}/24`, 'dev', 'host0']);
  await runOk(netns[0] ?? 'nsenter', [...netns.slice(1), 'ip', 'link', 'set', 'host0', 'up']);
  await runOk(netns[0] ?? 'nsenter', [...netns.slice(1), 'ip', 'route', 'add', 'default', 'via', hostIP]);
}

/**
 * Cuts the machine off from etcd. 'rule': new connections to etcd's client ports fail at once (a
 * prohibit route: EACCES) and packets of connections made before the cut are dropped both ways
 * (iptables), so a watch opened earlier goes silent too. 'link': host0 down.
 */
export async function partitionMachine(
  m: MachineRecord,
  hostIP: string,
  etcdPorts: readonly number[],
  mode: 'rule' | 'link',
): Promise<void> {
  if (m.partition) throw new Error(`machine ${m.name} is already partitioned`);
  const cut = (verb: 'add' | 'del', port: number): string[][] => {
    const ipt = verb === 'add' ? '-I' : '-D';
    return [
      ['ip', 'rule', verb, 'to', hostIP, 'ipproto', 'tcp', 'dport', String(port), 'prohibit'],
      ['iptables', ipt, 'OUTPUT', '-d', hostIP, '-p', 'tcp', '--dport', String(port), '-j', 'DROP'],
      ['iptables', ipt, 'INPUT', '-s', hostIP, '-p', 'tcp', '--sport', String(port), '-j', 'DROP'],
    ];
  };
  const commands =
    mode === 'link' ? [['ip', 'link', 'set', 'host0', 'down']] : etcdPorts.flatMap((p) => cut('add', p));
  m.partition =
    mode === 'link' ? [['ip', 'link', 'set', 'host0', 'up']] : etcdPorts.flatMap((p) => cut('del', p));
  for (const c of commands) await runOk('nsenter', ['-t', String(m.leaderPid), '-n', '--', ...c]);
}

export async function healMachine(m: MachineRecord, hostIP: string): Promise<void> {
  if (!m.partition) return;
  const netns = ['-t', String(m.leaderPid), '-n', '--'];
  for (const c of m.partition) await run('nsenter', [...netns, ...c]);
  if (m.partition[0]?.[1] === 'link') {
    // Bringing host0 up again drops its routes.
    await run('nsenter', [...netns, 'ip', 'route', 'replace', 'default', 'via', hostIP]);
  }
  m.partition = undefined;
}
