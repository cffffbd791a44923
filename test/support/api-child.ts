// A stand-in for fleetd's process in API tests that need their own process (socket activation, a
// descriptor limit): serves the API with the config in $API_CONFIG (JSON), prints one JSON line
// {addresses} when up or {error} when startApiServer refused, and with $AGENT_DIR set keeps doing
// what the agent does all the time — write a unit file, run systemctl — counting failures.
// On a "report" line on stdin it prints {ok, failed, errors}.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startApiServer } from '../../api/listen.js';
import { openEtcdRegistry } from '../../registry/etcd-registry.js';
import { createLogger } from '../../units/log.js';

const reg = openEtcdRegistry({
  endpoints: [process.env.ETCD ?? ''],
  keyPrefix: '/_coreos.com/fleet/',
  requestTimeoutMs: 5000,
});
try {
  const s = await startApiServer(
    JSON.parse(process.env.API_CONFIG ?? '{}'),
    reg,
    createLogger('child', { level: 'silent' }),
  );
  console.log(JSON.stringify({ addresses: s.addresses }));
} catch (err) {
  console.log(JSON.stringify({ error: (err as Error).message }));
  process.exit(1);
}

let ok = 0;
let failed = 0;
const errors = new Set<string>();
const agentDir = process.env.AGENT_DIR;
if (agentDir) {
  let n = 0;
  const step = async (): Promise<void> => {
    try {
      await writeFile(join(agentDir, `u${n++ % 10}.service`), '[Service]\nExecStart=/bin/true\n');
      await new Promise<void>((resolve, reject) =>
        execFile('systemctl', ['--version'], (err) => (err ? reject(err) : resolve())),
      );
      ok++;
    } catch (err) {
      failed++;
      errors.add((err as NodeJS.ErrnoException).code ?? (err as Error).message);
    }
    setTimeout(step, 20);
  };
  void step();
}
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'report') console.log(JSON.stringify({ ok, failed, errors: [...errors] }));
});
