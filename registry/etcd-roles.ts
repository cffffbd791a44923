// Least privilege in etcd: the roles fleet-ts needs, as key-prefix permissions under the key prefix.
// fleet gave every fleetd the whole keyspace, so one compromised host could reschedule the cluster.
// Here an agent-only machine can write only its own machine record and unit states (and cluster cron
// run reports), and read only its own schedule and unit contents. docs/etcd-security.md explains it.

import { machineJournalPrefix } from './journal-relay.js';
import { MACHINES_PREFIX, machineSchedulePrefix, machineStatePrefix, UNIT_CONTENT_PREFIX } from './keys.js';
import { assertMachineID } from './names-guard.js';
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
}

export const ENGINE_ROLE = 'fleet-engine';
export const ADMIN_ROLE = 'fleet-admin';
export const READONLY_ROLE = 'fleet-readonly';
export const agentRoleName = (machineID: string): string => `fleet-agent-${machineID}`;

/**
 * The roles for a key prefix (fleetd's etcd_key_prefix) and the machine IDs of agent-only machines
 * (fleetd with disable_engine=true). Engine machines (the default) need fleet-engine: the engine,
 * leader election, cluster cron and content GC read and write everywhere under the prefix.
 */
export function planEtcdRoles(keyPrefix: string, machineIDs: readonly string[]): EtcdRole[] {
  const p = (rel: string) => `${keyPrefix}${rel}`;
  const roles: EtcdRole[] = [
    {
      name: ENGINE_ROLE,
      purpose: 'fleetd on engine machines: schedules units, elects the leader, runs cron and content GC',
      grants: [{ permission: 'readwrite', prefix: keyPrefix }],
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
  for (const id of machineIDs) {
    assertMachineID(id);
    roles.push({
      name: agentRoleName(id),
      purpose: `fleetd with disable_engine=true on machine ${id}: its own record, states and schedule only`,
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
    lines.push(`etcdctl user grant-role ${shellQuote(r.name)} ${shellQuote(r.name)}`);
  }
  lines.push('');
  return lines.join('\n');
}
