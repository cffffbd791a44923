// fleetctl ssh / status / journal / --tunnel through the real CLI entry (`main`, and the process for
// the interactive shell) against a simulated cluster and two real OpenSSH servers, one per machine
// address (127.0.0.11 and 127.0.0.12, on the same --ssh-port). Each sshd runs a ForceCommand wrapper
// that logs the exact remote command line and puts a fake systemctl/journalctl first in PATH: the
// host has no running systemd, and what is under test is fleetctl's side (which machine, which
// command line, which exit code), not systemd's.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLocalFile } from '../../cli/fleetctl/io.js';
import { main } from '../../cli/fleetctl/program.js';
import { sshTunnelOpener } from '../../cli/fleetctl/tunnel.js';
import { unitModel } from '../../cli/fleetctl/unit-model.js';
import { keyFingerprint } from '../../cli/ssh/known-hosts.js';
import { openEtcdRegistry } from '../../registry/etcd-registry.js';
import { runChild } from '../support/child.js';
import { freePort } from '../support/etcd.js';
import { SIM_MACHINES, type SimCluster, startSimCluster } from '../support/sim-cluster.js';
import { type SshdServer, startSshd } from '../support/sshd.js';
import type { RunResult } from './cli-helpers.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const [M1, M2] = SIM_MACHINES;

let cluster: SimCluster;
let dir: string;
let sshd1: SshdServer;
let sshd2: SshdServer;
let knownHosts: string;

/** Writes the ForceCommand wrapper and fake tools for machine `n`; returns the wrapper path. */
function machineHome(n: number): string {
  const home = join(dir, `m${n}`);
  mkdirSync(join(home, 'bin'), { recursive: true });
  const script = (path: string, text: string) => {
    writeFileSync(path, text);
    chmodSync(path, 0o755);
  };
  script(
    join(home, 'bin', 'systemctl'),
    `#!/bin/sh\necho "m${n} systemctl: $*"\necho "m${n} systemctl stderr" >&2\nexit 3\n`,
  );
  script(
    join(home, 'bin', 'journalctl'),
    `#!/bin/sh\necho "m${n} journalctl: $*"\necho line1\necho line2\necho line3\n`,
  );
  script(
    join(home, 'wrap.sh'),
    [
      '#!/bin/sh',
      'logged="$SSH_ORIGINAL_COMMAND"; [ -n "$logged" ] || logged="<shell>"',
      `printf '%s\\n' "$logged" >> '${home}/commands.log'`,
      `PATH='${home}/bin':"$PATH"; export PATH`,
      'if [ -z "$SSH_ORIGINAL_COMMAND" ]; then exec /bin/sh; fi',
      'exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"',
      '',
    ].join('\n'),
  );
  writeFileSync(join(home, 'commands.log'), '');
  return join(home, 'wrap.sh');
}

const commandsOn = (n: number): string[] =>
  readFileSync(join(dir, `m${n}`, 'commands.log'), 'utf8')
    .split('\n')
    .filter(Boolean);

function sshFlags(kh = knownHosts): string[] {
  return [
    '--ssh-port',
    String(sshd1.port),
    '--ssh-username',
    sshd1.username,
    '--known-hosts-file',
    kh,
    '--ssh-identity-file',
    `${sshd1.clientKeyFile},${sshd2.clientKeyFile}`,
  ];
}

/** fleetctl in-process, with the real --tunnel wiring and no ssh-agent. */
async function fleetctl(...args: string[]): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const env = { HOME: dir };
  const code = await main(
    ['--driver=etcd', `--endpoint=${cluster.endpoint}`, ...args],
    {
      stdout: (s) => {
        stdout += s;
      },
      stderr: (s) => {
        stderr += s;
      },
      env,
      cwd: dir,
      readLocalFile,
      sleep,
    },
    { model: unitModel, driver: { openEtcd: openEtcdRegistry, openTunnel: sshTunnelOpener(env) } },
  );
  return { code, stdout, stderr };
}

beforeAll(async () => {
  cluster = await startSimCluster({ machines: 2 });
  dir = mkdtempSync(join(tmpdir(), 'fleet-ts-cli-ssh-'));
  const wrap1 = machineHome(1);
  const wrap2 = machineHome(2);
  sshd1 = await startSshd({ host: M1.publicIP, extraConfig: [`ForceCommand ${wrap1}`] });
  sshd2 = await startSshd({ host: M2.publicIP, port: sshd1.port, extraConfig: [`ForceCommand ${wrap2}`] });
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(
    knownHosts,
    `[${M1.publicIP}]:${sshd1.port} ${sshd1.hostPublicKey()}\n[${M2.publicIP}]:${sshd2.port} ${sshd2.hostPublicKey()}\n`,
  );
  for (const [name, m] of [
    ['one.service', M1],
    ['two.service', M2],
  ] as const) {
    writeFileSync(
      join(dir, name),
      `[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nMachineID=${m.id}\n`,
    );
  }
  const r = await fleetctl('start', 'one.service', 'two.service');
  if (r.code !== 0) throw new Error(`could not start the test units: ${r.stderr}`);
}, 180_000);

afterAll(async () => {
  await sshd1?.stop();
  await sshd2?.stop();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fleetctl ssh', () => {
  it('runs the command on the unit’s machine and returns its exit code', async () => {
    expect(await fleetctl(...sshFlags(), 'ssh', 'one.service', '--', 'echo', 'hi')).toEqual({
      code: 0,
      stdout: 'hi\n',
      stderr: '',
    });
    expect(commandsOn(1).at(-1)).toBe('echo hi');
    const r = await fleetctl(...sshFlags(), 'ssh', 'one', '--', 'echo out; echo err >&2; exit 3');
    expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('a machine ID prefix (or --machine) picks that machine', async () => {
    const r = await fleetctl(...sshFlags(), 'ssh', M2.id.slice(0, 6), '--', 'echo', 'there');
    expect(r).toEqual({ code: 0, stdout: 'there\n', stderr: '' });
    expect(commandsOn(2).at(-1)).toBe('echo there');
    expect(commandsOn(1)).not.toContain('echo there');
    const byFlag = await fleetctl(...sshFlags(), 'ssh', '--machine', M1.id.slice(0, 8), 'exit', '7');
    expect(byFlag.code).toBe(7);
    expect(commandsOn(1).at(-1)).toBe('exit 7');
  });

  it('an unknown host without a terminal fails in one line, exit 1, and records nothing', async () => {
    const empty = join(dir, 'kh-empty');
    writeFileSync(empty, '');
    const before = commandsOn(1).length;
    const r = await fleetctl(...sshFlags(empty), 'ssh', 'one.service', 'echo', 'no');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Failed building SSH client: .*127\.0\.0\.11.*\n$/);
    expect(readFileSync(empty, 'utf8')).toBe('');
    expect(commandsOn(1)).toHaveLength(before);
  });
});

describe('fleetctl status and journal', () => {
  it('status runs `systemctl status -l` on the unit’s machine and returns its exit code', async () => {
    const r = await fleetctl(...sshFlags(), 'status', 'one.service');
    expect(r).toEqual({
      code: 3,
      stdout: 'm1 systemctl: status -l -- one.service\n',
      stderr: 'm1 systemctl stderr\n',
    });
    expect(commandsOn(1).at(-1)).toBe("systemctl status -l -- 'one.service'");
  });

  it('journal --lines 3 reads the journal on the unit’s machine', async () => {
    const r = await fleetctl(...sshFlags(), 'journal', '--lines', '3', 'two');
    expect(r).toEqual({
      code: 0,
      stdout: 'm2 journalctl: --unit two.service --no-pager -n 3 --output short\nline1\nline2\nline3\n',
      stderr: '',
    });
    expect(commandsOn(2).at(-1)).toBe("journalctl --unit 'two.service' --no-pager -n 3 --output 'short'");
  });
});

describe('--tunnel', () => {
  it('list-units reaches etcd through SSH; with the tunnel host down it fails in one line', async () => {
    const tunnel = `${M1.publicIP}:${sshd1.port}`;
    const r = await fleetctl(...sshFlags(), '--tunnel', tunnel, 'list-units', '--no-legend', '--fields=unit');
    expect(r).toEqual({ code: 0, stdout: 'one.service\ntwo.service\n', stderr: '' });
    // The same command through a tunnel host where nothing listens: etcd is not dialled directly.
    const nobody = `${M1.publicIP}:${await freePort(M1.publicIP)}`;
    const down = await fleetctl(...sshFlags(), '--tunnel', nobody, 'list-units');
    expect(down.code).toBe(1);
    expect(down.stdout).toBe('');
    expect(down.stderr).toMatch(
      /^Unable to initialize client: cannot open SSH tunnel through 127\.0\.0\.11:\d+: .+\n$/,
    );
  });
});

describe('the interactive shell (fleetctl as a process)', () => {
  it('runs what stdin says and exits with the shell’s code while stdin stays open', async () => {
    // stdin is never closed: fleetctl must still exit when the remote shell does.
    const { code, stdout, stderr } = await runChild(
      process.execPath,
      [
        '--import',
        'tsx',
        `${ROOT}cli/fleetctl.ts`,
        '--driver=etcd',
        `--endpoint=${cluster.endpoint}`,
        ...sshFlags(),
        'ssh',
        'two.service',
      ],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: dir },
        input: 'echo from-shell\nexit 4\n',
        timeoutMs: 120_000,
      },
    );
    expect({ code, stdout, stderr }).toEqual({ code: 4, stdout: 'from-shell\n', stderr: '' });
    expect(commandsOn(2)).toContain('<shell>');
  }, 180_000);
});

// Last: it changes sshd2's host key for good.
describe('a changed host key', () => {
  it('is refused: one line naming the offered key’s fingerprint; fleet’s exit codes', async () => {
    await sshd2.restart({ newHostKey: true });
    const fp = keyFingerprint(Buffer.from(sshd2.hostPublicKey().split(' ')[1] ?? '', 'base64'));
    const before = commandsOn(2).length;
    const status = await fleetctl(...sshFlags(), 'status', 'two.service');
    expect(status.code).toBe(255);
    expect(status.stdout).toBe('');
    expect(status.stderr.split('\n')).toHaveLength(2);
    expect(status.stderr).toMatch(/^Unable to SSH to remote host: /);
    expect(status.stderr).toContain(fp);
    const journal = await fleetctl(...sshFlags(), 'journal', 'two.service');
    expect(journal.code).toBe(255);
    expect(journal.stderr).toContain(fp);
    const ssh = await fleetctl(...sshFlags(), 'ssh', 'two.service', 'echo', 'x');
    expect(ssh.code).toBe(1);
    expect(ssh.stderr).toMatch(/^Failed building SSH client: .*\n$/);
    expect(ssh.stderr).toContain(fp);
    expect(commandsOn(2)).toHaveLength(before);
    // The known_hosts file still holds the old key only.
    expect(readFileSync(knownHosts, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
  });
});
