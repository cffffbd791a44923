// Entry of the self-contained executable (scripts/package/sea.mjs): one binary, installed under both
// names, runs the program it was called as.
import { basename } from 'node:path';

const name = basename(process.argv0);
if (name === 'fleetd') void import('../../cli/fleetd.js');
else if (name === 'fleetctl') void import('../../cli/fleetctl.js');
else {
  process.stderr.write(`${name}: call this program as fleetctl or fleetd (a symlink with that name)\n`);
  process.exitCode = 1;
}
