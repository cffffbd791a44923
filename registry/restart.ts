// fleet-ts extension: `fleetctl restart` bumps the unit's restart generation in its job record
// (`job/<unit>`, field `restart`). The engine copies it into every schedule record of the unit and each
// agent that runs the unit restarts it (`systemctl restart`) when the generation grows (agent/restart.ts).
// A counter, not a desired-state flip: a loaded->launched flip coalesces before any agent acts, a
// counter cannot be lost that way.
import type { Namespace } from 'etcd3';
import { jobKey } from './keys.js';
import { assertUnitName } from './names-guard.js';
import { decodeJob, encodeJob } from './records.js';
import { UnitNotFoundError } from './types.js';

/** Attempts of the read-modify-write before giving up (another writer kept winning). */
const CAS_ATTEMPTS = 10;

/**
 * Increments the restart generation of `name` (compare-and-swap on the job's mod revision) and returns
 * the new generation. Throws UnitNotFoundError for an unknown unit.
 */
export async function bumpRestartGeneration(ns: Namespace, name: string): Promise<number> {
  assertUnitName(name);
  const key = jobKey(name);
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const kv = (await ns.get(key).exec()).kvs[0];
    if (!kv) throw new UnitNotFoundError(name);
    const job = decodeJob(key, kv.value.toString());
    const generation = (job.restart ?? 0) + 1;
    const res = await ns
      .if(key, 'Mod', '==', kv.mod_revision)
      .then(ns.put(key).value(encodeJob({ ...job, restart: generation })))
      .commit();
    if (res.succeeded) return generation;
  }
  throw new Error(`unit ${name}: not restarted, the unit kept changing concurrently`);
}
