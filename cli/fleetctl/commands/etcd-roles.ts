// etcd-roles (fleet-ts extension, docs/etcd-security.md): prints the etcdctl script that creates the
// least-privilege roles and users for a cluster (fleet-engine, fleet-admin, fleet-readonly and one
// fleet-agent-<machine> per machine given; those named by --engine also hold fleet-engine). It talks to no server: the operator reviews the
// script and runs it with etcd's root credentials.
import { etcdctlScript, planEtcdRoles } from '../../../registry/etcd-roles.js';
import { InvalidNameError } from '../../../registry/names-guard.js';
import type { CommandContext } from '../context.js';
import { CliError } from '../io.js';

export async function runEtcdRoles(
  ctx: CommandContext,
  machineIDs: readonly string[],
  engineMachineIDs: readonly string[] = [],
): Promise<number> {
  try {
    const roles = planEtcdRoles(ctx.globals.etcdKeyPrefix, machineIDs, engineMachineIDs);
    ctx.print.out(etcdctlScript(roles).trimEnd());
  } catch (err) {
    if (err instanceof InvalidNameError) throw new CliError(`Error: ${err.message}`);
    throw err;
  }
  return 0;
}
