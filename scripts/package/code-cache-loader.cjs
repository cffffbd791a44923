// The start of the installed fleetctl (see code-cache.mjs): compiles the bundled program, embedded as
// one string, with a V8 code cache, so a run skips parsing the 1.7 MB bundle. Node 20 has no
// module.enableCompileCache. The cache is an optimisation only: missing, stale, foreign or unwritable
// caches mean a normal compile, never an error.
//
// Cache files: /var/cache/fleet-ts/ when writable (root), else $XDG_CACHE_HOME/fleet-ts or
// ~/.cache/fleet-ts; named by program, bundle hash and node version, so an upgrade never reads an
// old cache. A cache file holds bytecode, so only files owned by this user or root, not writable by
// others, in a directory with the same properties, are used. FLEET_TS_CODE_CACHE=0 turns it off;
// FLEET_TS_CODE_CACHE_DIR=DIR uses only DIR.
// biome-ignore lint/correctness/noUnusedVariables: called by the line code-cache.mjs appends
function runWithCodeCache(body, name, hash) {
  const fs = require('node:fs');
  const path = require('node:path');
  const vm = require('node:vm');
  const enabled = process.env.FLEET_TS_CODE_CACHE !== '0';
  const euid = typeof process.geteuid === 'function' ? process.geteuid() : -1;
  const env = process.env;
  const userDir = env.XDG_CACHE_HOME || (env.HOME && path.join(env.HOME, '.cache'));
  const dirs = env.FLEET_TS_CODE_CACHE_DIR
    ? [env.FLEET_TS_CODE_CACHE_DIR]
    : ['/var/cache/fleet-ts', ...(userDir ? [path.join(userDir, 'fleet-ts')] : [])];
  const file = `${name}-${hash}-${process.version}-${process.arch}.v8cache`;

  // Owned by this user or root and not writable by group or others.
  const trusted = (st) => (st.uid === euid || st.uid === 0) && (st.mode & 0o022) === 0;
  const read = (dir) => {
    let fd;
    try {
      if (!trusted(fs.statSync(dir))) return undefined;
      fd = fs.openSync(path.join(dir, file), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      const st = fs.fstatSync(fd);
      if (!st.isFile() || !trusted(st) || st.size === 0) return undefined;
      const buf = Buffer.allocUnsafe(st.size);
      return fs.readSync(fd, buf, 0, st.size, 0) === st.size ? buf : undefined;
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  };
  const write = (data) => {
    for (const dir of dirs) {
      const tmp = path.join(dir, `.${file}.${process.pid}`);
      try {
        fs.mkdirSync(dir, { recursive: true, mode: dir.startsWith('/var/') ? 0o755 : 0o700 });
        if (!trusted(fs.statSync(dir))) continue;
        fs.writeFileSync(tmp, data, { mode: 0o644, flag: 'wx' });
        fs.renameSync(tmp, path.join(dir, file));
        // Caches of other builds of this program are never read again.
        for (const f of fs.readdirSync(dir))
          if (f.startsWith(`${name}-`) && f.endsWith('.v8cache') && f !== file)
            fs.rmSync(path.join(dir, f), { force: true });
        return;
      } catch {
        try {
          fs.rmSync(tmp, { force: true });
        } catch {}
      }
    }
  };

  let cachedData;
  if (enabled)
    for (const dir of dirs) {
      cachedData = read(dir);
      if (cachedData) break;
    }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${body}\n})`, {
    filename: __filename,
    cachedData,
  });
  // Written when the process exits, so the functions this run compiled are in it too.
  if (enabled && (cachedData === undefined || script.cachedDataRejected))
    process.once('exit', () => write(script.createCachedData()));
  script.runInThisContext()(exports, require, module, __filename, __dirname);
}
