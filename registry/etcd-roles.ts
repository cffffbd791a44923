// Least privilege in etcd: the roles fleet-ts needs, as key-prefix permissions under the key prefix
// (fleet gave every fleetd the whole keyspace). An agent-only machine writes only its own records and
// reads only its own schedule and unit contents; an engine machine adds the schedule writes.
// Design notes: docs/architecture.md, "registry/etcd-roles.ts"; docs/etcd-security.md.

import { JOURNAL_PREFIX, machineJournalPrefix } from './journal-relay.js';
import {
  ENGINE_LEADER_KEY,
  MACHINES_PREFIX,
  machineSchedulePrefix,
  machineStatePrefix,
  SCHEDULE_PREFIX,
  UNIT_CONTENT_PREFIX,
} from './keys.js';
import { assertMachineID } from './names-guard.js';
import { UNPLACED_PREFIX } from './ops-records.js';
import { RUNS_PREFIX } from './runs.js';

export type EtcdPermission = 'read' | 'write' | 'readwrite';

export interface EtcdGrant {
  readonly permission: EtcdPermission;
  /** Absolute key prefix (key prefix + relative prefix). */
  readonly prefix: string;
}

export interface EtcdRole {
  readonly name: string;
  /** What the role is for, one line. */
  readonly purpose: string;
  readonly grants: readonly EtcdGrant[];
  /** Further roles the user of the same name holds (an engine machine's user holds fleet-engine too). */
  readonly userAlsoHolds?: readonly string[];
}

export const ENGINE_ROLE = 'fleet-engine';
export const ADMIN_ROLE = 'fleet-admin';
export const READONLY_ROLE = 'fleet-readonly';
export const agentRoleName = (machineID: string): string => `fleet-agent-${machineID}`;

/**
 * The roles for a key prefix (fleetd's etcd_key_prefix) and machine IDs: each machine's fleetd logs in
 * as fleet-agent-<id>; the machines in `engineMachineIDs` (fleetd without disable_engine; added to
 * the list if missing) also hold fleet-engine. fleet-engine is the engine's narrowest working set: it
 * reads the whole prefix (jobs, machines, states, schedules) but writes only schedules, the leader
 * key, unplaced-unit reports, cron runs, unit contents (the cleanup deletes them) and the console's
 * journal requests — not jobs, not machine records, not unit states.
 */
export function planEtcdRoles(
  keyPrefix: string,
  machineIDs: readonly string[],
  engineMachineIDs: readonly string[] = [],
): EtcdRole[] {
  const p = (rel: string) => `${keyPrefix}${rel}`;
  const engineKeyPrefix = ENGINE_LEADER_KEY.slice(0, ENGINE_LEADER_KEY.indexOf('/') + 1);
  const roles: EtcdRole[] = [
    {
      name: ENGINE_ROLE,
      purpose:
        'the engine in fleetd on engine machines: schedules units, elects the leader, runs cron and content GC',
      grants: [
        { permission: 'read', prefix: keyPrefix },
        ...[
          SCHEDULE_PREFIX,
          engineKeyPrefix,
          UNPLACED_PREFIX,
          RUNS_PREFIX,
          UNIT_CONTENT_PREFIX,
          JOURNAL_PREFIX,
        ].map((rel) => ({ permission: 'readwrite' as const, prefix: p(rel) })),
      ],
    },
    {
      name: ADMIN_ROLE,
      purpose: 'fleetctl and the fleet API: submit, start, stop, destroy units, drain machines',
      grants: [{ permission: 'readwrite', prefix: keyPrefix }],
    },
    {
      name: READONLY_ROLE,
      purpose: 'fleetctl list-units, list-machines, status, cat (no changes)',
      grants: [{ permission: 'read', prefix: keyPrefix }],
    },
  ];
  const engines = new Set(engineMachineIDs);
  for (const id of [...machineIDs, ...engineMachineIDs.filter((e) => !machineIDs.includes(e))]) {
    assertMachineID(id);
    roles.push({
      name: agentRoleName(id),
      purpose: engines.has(id)
        ? `fleetd on engine machine ${id}: its own record, states and schedule, and (fleet-engine) schedules`
        : `fleetd with disable_engine=true on machine ${id}: its own record, states and schedule only`,
      ...(engines.has(id) ? { userAlsoHolds: [ENGINE_ROLE] } : {}),
      grants: [
        // machines/<id>/ is a prefix of machines/<id>x/: the trailing slash keeps IDs apart.
        { permission: 'readwrite', prefix: p(`${MACHINES_PREFIX}${id}/`) },
        { permission: 'readwrite', prefix: p(machineStatePrefix(id)) },
        { permission: 'read', prefix: p(machineSchedulePrefix(id)) },
        { permission: 'read', prefix: p(UNIT_CONTENT_PREFIX) },
        // Cluster cron run reports are kept per unit, not per machine.
        { permission: 'readwrite', prefix: p(RUNS_PREFIX) },
        // The web console's journal requests for this machine, and its replies (./journal-relay.ts).
        { permission: 'readwrite', prefix: p(machineJournalPrefix(id)) },
      ],
    });
  }
  return roles;
}

/** Whether a role may do `op` on an absolute key (the rule etcd applies; used by tests and docs). */
export function roleAllows(role: EtcdRole, op: 'read' | 'write', key: string): boolean {
  return role.grants.some(
    (g) => key.startsWith(g.prefix) && (g.permission === 'readwrite' || g.permission === op),
  );
}

const shellQuote = (s: string): string =>
  /^[A-Za-z0-9_./:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * An etcdctl (v3) script that creates the roles, and one user per role with the same name and no
 * password: with etcd's --client-cert-auth, a client certificate whose CN is the user name logs in
 * as that user. For password logins set one afterwards (`etcdctl user passwd NAME`). Connection
 * settings come from the environment (ETCDCTL_ENDPOINTS, ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY,
 * ETCDCTL_USER=root). The script does not enable authentication: `etcdctl auth enable` is the
 * operator's step, after a root user exists.
 */
export function etcdctlScript(roles: readonly EtcdRole[]): string {
  const lines = [
    '#!/bin/sh',
    '# fleet-ts etcd roles (fleetctl etcd-roles). Run with ETCDCTL_API=3 and ETCDCTL_* connection settings.',
    'set -e',
    'export ETCDCTL_API=3',
  ];
  for (const r of roles) {
    lines.push('', `# ${r.name}: ${r.purpose}`);
    lines.push(`etcdctl role add ${shellQuote(r.name)}`);
    for (const g of r.grants) {
      lines.push(
        `etcdctl role grant-permission --prefix=true ${shellQuote(r.name)} ${g.permission} ${shellQuote(g.prefix)}`,
      );
    }
    lines.push(`etcdctl user add --no-password ${shellQuote(r.name)}`);
    for (const role of [r.name, ...(r.userAlsoHolds ?? [])]) {
      lines.push(`etcdctl user grant-role ${shellQuote(r.name)} ${shellQuote(role)}`);
    }
  }
  lines.push('');
  return lines.join('\n');
}
