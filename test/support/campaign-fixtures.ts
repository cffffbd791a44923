// Helpers for the registry/engine integration tests: unit specs from text, simulated machines (a
// machine is just its lease-held `machines/<id>/object` record), and polling waits.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3, Lease, Namespace } from 'etcd3';
import { createEtcdClient } from '../../registry/client.js';
import { machineObjectKey } from '../../registry/keys.js';
import { encodeMachine } from '../../registry/records.js';
import type { EtcdConnectionOptions } from '../../registry/types.js';
import { createLogger, type Logger } from '../../units/log.js';
import { parseUnitFile } from '../../units/parse.js';
import { unitHash } from '../../units/serialize.js';
import type { DesiredState, MachineState, UnitSpec } from '../../units/types.js';

export const TEST_PREFIX = '/_coreos.com/fleet/';

export function connOpts(endpoint: string, keyPrefix = TEST_PREFIX): EtcdConnectionOptions {
  // 10 s: a loaded machine's etcd answers late; a test's reads are not what is under test.
  return { endpoints: [endpoint], keyPrefix, requestTimeoutMs: 10_000 };
}

export function connect(endpoint: string, keyPrefix = TEST_PREFIX): { client: Etcd3; ns: Namespace } {
  const client = createEtcdClient(connOpts(endpoint, keyPrefix));
  return { client, ns: client.namespace(keyPrefix) };
}

export function quietLog(component = 'test'): Logger {
  return createLogger(component, { level: process.env.FLEET_LOG_LEVEL ?? 'silent' });
}

export function unitSpec(name: string, text: string, desiredState: DesiredState = 'launched'): UnitSpec {
  const options = parseUnitFile(text);
  return { name, hash: unitHash(options), options, desiredState };
}

/** A plain service unit, optionally with extra [X-Fleet] lines. */
export function serviceText(xfleet: string[] = [], body = 'ExecStart=/bin/sleep 1000'): string {
  const x = xfleet.length ? `\n[X-Fleet]\n${xfleet.join('\n')}\n` : '';
  return `[Unit]\nDescription=test\n\n[Service]\n${body}\n${x}`;
}

export interface FakeMachine {
  readonly id: string;
  readonly lease: Lease;
  /** Stop keepalives: the record disappears when the lease expires (a crashed machine). */
  crash(): void;
  /** Revoke: the record disappears at once (a graceful leave). */
  leave(): Promise<void>;
}

/** Announces a machine the way an agent does: its object under a lease with the given TTL. */
export async function announceMachine(
  ns: Namespace,
  id: string,
  metadata: Record<string, string> = {},
  ttlSeconds = 2,
): Promise<FakeMachine> {
  const lease = ns.lease(ttlSeconds);
  lease.on('lost', () => {});
  const m: MachineState = { id, publicIP: '127.0.0.1', metadata, version: 'test', disableEngine: false };
  await lease.put(machineObjectKey(id)).value(encodeMachine(m));
  return {
    id,
    lease,
    crash: () => lease.release(),
    leave: async () => {
      await lease.revoke();
    },
  };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`,
      );
    }
    await sleep(intervalMs);
  }
}

export { sleep };
