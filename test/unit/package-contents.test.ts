// What `npm pack` ships: only what runs (compiled JavaScript, the host files, LICENSE, README) —
// no sources, tests, benchmarks or CI files.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('npm pack', () => {
  it('ships dist JavaScript, packaging/, LICENSE, README and package.json only', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const files = (JSON.parse(r.stdout) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
    // dist/console/: the web console's page and stylesheet (its script matches dist/**/*.js).
    const allowed =
      /^(dist\/.+\.js|dist\/console\/(index\.html|app\.css)|packaging\/.+|LICENSE|README\.md|package\.json)$/;
    expect(files.filter((f) => !allowed.test(f))).toEqual([]);
    expect(files).toEqual(
      expect.arrayContaining(['LICENSE', 'packaging/systemd/fleetd.service', 'dist/console/index.html']),
    );
  });
});
