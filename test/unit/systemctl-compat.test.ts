// The compatibility floor, systemd 239 (RHEL/Rocky/Alma 8): the agent's systemctl parsers read the
// outputs of systemd 239 and 252 alike (test/fixtures/systemctl/), and no systemctl or journalctl
// call of the driver uses an option that systemd 239 does not have (a stand-in systemctl that knows
// only 239's options records every call).
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemctlDriver } from '../../agent/systemd/systemctl.js';
import {
  parseListUnitsOutput,
  parseRunStatus,
  parseShowOutput,
} from '../../agent/systemd/systemctl-output.js';

const FIXTURES = new URL('../fixtures/systemctl/', import.meta.url).pathname;
const read = (version: string, name: string) => readFileSync(join(FIXTURES, version, name), 'utf8');

describe.each(['239', '252'])('systemctl show outputs of systemd %s', (version) => {
  it('unit states: running, failed and not-found units by name', () => {
    const text = read(version, 'show-states.txt');
    const ids = [...text.matchAll(/^Id=(.+)$/gm)].map((m) => m[1] as string);
    expect(ids).toHaveLength(3);
    const states = parseShowOutput(text, ids);
    expect([...states.values()]).toEqual([
      { load: 'loaded', active: 'active', sub: 'running' },
      { load: 'loaded', active: 'failed', sub: 'failed' },
      { load: 'not-found', active: 'inactive', sub: 'dead' },
    ]);
  });

  it('list-units states: running, failed and activating units; units not in memory are not listed', () => {
    const names = ['fixture-web.service', 'fixture-broken.service', 'fixture-missing.service'];
    const states = parseListUnitsOutput(read(version, 'list-units-states.txt'), [
      ...names,
      'fixture-slow.service',
      'fixture-late.service',
    ]);
    expect(Object.fromEntries(states)).toEqual({
      'fixture-web.service': { load: 'loaded', active: 'active', sub: 'running' },
      'fixture-broken.service': { load: 'loaded', active: 'failed', sub: 'failed' },
      'fixture-slow.service': { load: 'loaded', active: 'activating', sub: 'start' },
    });
    // Only the names asked for: another unit matched by the same pattern is not reported.
    expect([
      ...parseListUnitsOutput(read(version, 'list-units-states.txt'), ['fixture-web.service']).keys(),
    ]).toEqual(['fixture-web.service']);
  });

  it('run status: a finished failed run placed on the wall clock, and a unit that never ran', () => {
    const clock = { realtimeMs: 1_800_000_000_000, monotonicUs: 6_000_000_000 };
    const finished = parseRunStatus(read(version, 'show-run-finished.txt'), clock);
    expect(finished.active).toBe('failed');
    expect(finished.result).toBe('exit-code');
    expect(finished.execMainStatus).toBe(3);
    expect(finished.startedAt).not.toBeNull();
    expect(finished.exitedAt).not.toBeNull();
    // Both stamps lie before the clock sample, in order.
    expect(finished.startedAt as number).toBeLessThan(finished.exitedAt as number);
    expect(finished.exitedAt as number).toBeLessThan(clock.realtimeMs);
    expect(parseRunStatus(read(version, 'show-run-never.txt'), clock)).toEqual({
      active: 'inactive',
      result: 'success',
      execMainStatus: 0,
      startedAt: null,
      exitedAt: null,
    });
  });
});

it('parseRunStatus converts monotonic microseconds with the clock sample', () => {
  const clock = { realtimeMs: 1_800_000_000_000, monotonicUs: 6_000_000_000 };
  const st = parseRunStatus(
    'ExecMainStartTimestampMonotonic=5000000000\nExecMainExitTimestampMonotonic=5002500000\n',
    clock,
  );
  expect(st.startedAt).toBe(1_800_000_000_000 - 1_000_000);
  expect(st.exitedAt).toBe(1_800_000_000_000 - 997_500);
});

// Options of systemctl(1) and journalctl(1) in systemd 239 (their man pages), long and short forms.
const SYSTEMCTL_239 = [
  '-t',
  '--type',
  '--state',
  '-p',
  '--property',
  '-a',
  '--all',
  '-r',
  '--recursive',
  '--reverse',
  '--after',
  '--before',
  '-l',
  '--full',
  '--value',
  '--show-types',
  '--job-mode',
  '--fail',
  '-i',
  '--ignore-inhibitors',
  '--dry-run',
  '-q',
  '--quiet',
  '--no-block',
  '--wait',
  '--user',
  '--system',
  '--failed',
  '--no-wall',
  '--global',
  '--no-reload',
  '--no-ask-password',
  '--kill-who',
  '-s',
  '--signal',
  '-f',
  '--force',
  '--message',
  '--now',
  '--root',
  '--runtime',
  '--preset-mode',
  '-n',
  '--lines',
  '-o',
  '--output',
  '--firmware-setup',
  '--plain',
  '-H',
  '--host',
  '-M',
  '--machine',
  '--no-pager',
  '--no-legend',
  '-h',
  '--help',
  '--version',
];
const JOURNALCTL_239 = [
  '--no-full',
  '-a',
  '--all',
  '-f',
  '--follow',
  '-e',
  '--pager-end',
  '-n',
  '--lines',
  '--no-tail',
  '-r',
  '--reverse',
  '-o',
  '--output',
  '--output-fields',
  '--utc',
  '--no-hostname',
  '-x',
  '--catalog',
  '-q',
  '--quiet',
  '-m',
  '--merge',
  '-b',
  '--boot',
  '-k',
  '--dmesg',
  '-u',
  '--unit',
  '--user-unit',
  '-t',
  '--identifier',
  '-p',
  '--priority',
  '-g',
  '--grep',
  '-c',
  '--cursor',
  '--after-cursor',
  '--show-cursor',
  '-S',
  '--since',
  '-U',
  '--until',
  '-F',
  '--field',
  '-N',
  '--fields',
  '--system',
  '--user',
  '-M',
  '--machine',
  '-D',
  '--directory',
  '--file',
  '--root',
  '--no-pager',
  '--user',
];

const dir = mkdtempSync(join(tmpdir(), 'fleet-ts-systemd239-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A systemctl/journalctl that refuses options systemd 239 lacks, logs argv, prints `output`. */
function fake239(name: string, options: string[], output: string): string {
  const path = join(dir, name);
  const known = options.map((o) => `"${o}"`).join(' ');
  writeFileSync(
    path,
    `#!/bin/bash
known=(${known})
printf '%s\\n' "$*" >> ${join(dir, `${name}.log`)}
for a in "$@"; do
  [ "$a" = -- ] && break
  case "$a" in -*) o="\${a%%=*}"; ok=0; for k in "\${known[@]}"; do [ "$k" = "$o" ] && ok=1; done
    [ $ok = 1 ] || { echo "${name}: unrecognized option '$a'" >&2; exit 1; } ;; esac
done
cat <<'OUT'
${output}
OUT
`,
  );
  chmodSync(path, 0o755);
  return path;
}

it("every systemctl/journalctl call of the agent's driver is one systemd 239 understands", async () => {
  const systemctl = fake239('systemctl', SYSTEMCTL_239, read('239', 'show-run-never.txt'));
  const journalctl = fake239('journalctl', JOURNALCTL_239, '');
  const driver = new SystemctlDriver({ systemctlPath: systemctl, journalctlPath: journalctl });
  await driver.daemonReload();
  await driver.enableUnit('a.service');
  await driver.disableUnit('a.service');
  await driver.startUnit('a.service');
  await driver.stopUnit('a.service');
  await driver.startUnits(['a.service', 'b.service']);
  await driver.stopUnits(['a.service', 'b.service']);
  await driver.resetFailed('a.service');
  await driver.disableUnits(['a.service', 'b.service']);
  await driver.resetFailedUnits(['a.service', 'b.service']);
  await driver.unitStates(['a.service', 'b.service']);
  await driver.reloadNeededFor(['a.service']);
  // runStatus of a unit without a run falls through to journalctl -o json.
  expect((await driver.runStatus('a.service'))?.startedAt).toBeNull();
  const calls = readFileSync(join(dir, 'systemctl.log'), 'utf8');
  expect(calls).toMatch(/^show -p ActiveState,Result,ExecMainStatus,ExecMainStartTimestampMonotonic/m);
  expect(calls).not.toMatch(/--timestamp/);
  expect(calls).toMatch(/^list-units --all --plain --no-legend --full -- a\.service b\.service$/m);
  expect(calls).toMatch(/^--version$/m);
  expect(readFileSync(join(dir, 'journalctl.log'), 'utf8')).toMatch(/-o json/);
});
