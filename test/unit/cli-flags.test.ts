import { describe, expect, it } from 'vitest';
import { matchCommand, normalizeArgv } from '../../cli/fleetctl/argv.js';
import { chooseDriver } from '../../cli/fleetctl/driver.js';
import { etcdEndpoints, isUnreachable } from '../../cli/fleetctl/etcd-client.js';
import { envName, resolveGlobalOptions, tunnelAddress } from '../../cli/fleetctl/options.js';
import { commandNames } from '../../cli/fleetctl/program.js';
import { blockAttempts } from '../../cli/fleetctl/wait.js';

const CMDS = commandNames();

describe('command prefix matching (cobra EnablePrefixMatching)', () => {
  it('a unique prefix selects the command', () => {
    expect(matchCommand('list-m', CMDS)).toBe('list-machines');
    expect(matchCommand('list-unit-f', CMDS)).toBe('list-unit-files');
    expect(matchCommand('des', CMDS)).toBe('destroy');
  });
  it('an exact name wins over being a prefix of another (list-units vs list-unit-files)', () => {
    expect(matchCommand('list-units', CMDS)).toBe('list-units');
  });
  it('an ambiguous or unknown prefix is an error naming the candidates', () => {
    expect(() => matchCommand('st', CMDS)).toThrow(
      /unknown command "st" for "fleetctl" \(did you mean start, status, stop\?\)/,
    );
    expect(() => matchCommand('zzz', CMDS)).toThrow(/unknown command "zzz"/);
  });
});

describe('Go flag spellings', () => {
  it('rewrites --l/--f/--A to -l/-f/-A and expands the command prefix', () => {
    expect(normalizeArgv(['list-ma', '--l', '--no-legend'], CMDS)).toEqual([
      'list-machines',
      '-l',
      '--no-legend',
    ]);
    expect(normalizeArgv(['journal', '--f', '--n=5', 'x'], CMDS)).toEqual([
      'journal',
      '-f',
      '--lines',
      '5',
      'x',
    ]);
  });
  it('global flag values before the command are not taken for the command', () => {
    expect(normalizeArgv(['--endpoint', 'http://x:2379', 'list-m'], CMDS)).toEqual([
      '--endpoint',
      'http://x:2379',
      'list-machines',
    ]);
  });
  it('--flag=false / =true for bools', () => {
    expect(normalizeArgv(['--strict-host-key-checking=false', 'ssh', 'm'], CMDS)).toEqual([
      '--no-strict-host-key-checking',
      'ssh',
      'm',
    ]);
    expect(normalizeArgv(['list-units', '--full=true', '--no-legend=false'], CMDS)).toEqual([
      'list-units',
      '--full',
    ]);
    expect(() => normalizeArgv(['--debug=maybe', 'version'], CMDS)).toThrow(/invalid argument "maybe"/);
  });
  it('leaves everything after -- alone', () => {
    expect(normalizeArgv(['ssh', 'm1', '--', 'ls', '--l'], CMDS)).toEqual(['ssh', 'm1', '--', 'ls', '--l']);
  });
});

describe('global options: flag > FLEETCTL_* env > deprecated alias > default', () => {
  it('fleet’s defaults', () => {
    const g = resolveGlobalOptions({}, { HOME: '/home/u' });
    expect(g).toMatchObject({
      endpoint: 'unix:///var/run/fleet.sock',
      driver: 'API',
      etcdKeyPrefix: '/_coreos.com/fleet/',
      strictHostKeyChecking: true,
      sshUsername: 'core',
      sshPort: 22,
      requestTimeout: 3,
      sshTimeout: 10,
      knownHostsFile: '/home/u/.fleetctl/known_hosts',
    });
  });
  it('environment applies when the flag is not given; the flag wins', () => {
    const env = {
      FLEETCTL_ENDPOINT: 'http://e:2379',
      FLEETCTL_STRICT_HOST_KEY_CHECKING: 'false',
      FLEETCTL_REQUEST_TIMEOUT: '0.5',
      FLEETCTL_TUNNEL: '',
    };
    const g = resolveGlobalOptions({ endpoint: 'http://flag:2379' }, env);
    expect(g.endpoint).toBe('http://flag:2379');
    expect(g.strictHostKeyChecking).toBe(false);
    expect(g.requestTimeout).toBe(0.5);
    expect(g.tunnel).toBe('');
    expect(envName('etcd-key-prefix')).toBe('FLEETCTL_ETCD_KEY_PREFIX');
  });
  it('bad env values are one clear error', () => {
    expect(() => resolveGlobalOptions({}, { FLEETCTL_DEBUG: 'yes please' })).toThrow(
      'Error: invalid boolean value "yes please" for FLEETCTL_DEBUG',
    );
    expect(() => resolveGlobalOptions({}, { FLEETCTL_SSH_TIMEOUT: 'soon' })).toThrow(/FLEETCTL_SSH_TIMEOUT/);
  });
  it('deprecated --etcd-cafile feeds --ca-file', () => {
    expect(resolveGlobalOptions({ etcdCafile: '/ca.pem' }, {}).caFile).toBe('/ca.pem');
    expect(resolveGlobalOptions({ etcdCafile: '/old', caFile: '/new' }, {}).caFile).toBe('/new');
  });
  it('--tunnel defaults to port 22', () => {
    expect(tunnelAddress('bastion')).toEqual({ host: 'bastion', port: 22 });
    expect(tunnelAddress('10.0.0.1:2222')).toEqual({ host: '10.0.0.1', port: 2222 });
  });
});

describe('driver selection', () => {
  it('API (default) or etcd, case-insensitive; empty = guess from the port like fleet', () => {
    expect(chooseDriver({ driver: 'API', endpoint: 'unix:///var/run/fleet.sock' })).toBe('api');
    expect(chooseDriver({ driver: 'etcd', endpoint: 'http://h:1' })).toBe('etcd');
    expect(chooseDriver({ driver: '', endpoint: 'http://h:2379' })).toBe('etcd');
    expect(chooseDriver({ driver: '', endpoint: 'http://h:8080' })).toBe('api');
    expect(() => chooseDriver({ driver: 'x', endpoint: '' })).toThrow(
      'Unable to initialize client: unrecognized driver "x"',
    );
  });
  it('etcd endpoints must be http(s) URLs', () => {
    expect(etcdEndpoints('http://a:2379, http://b:2379')).toEqual(['http://a:2379', 'http://b:2379']);
    expect(() => etcdEndpoints('unix:///var/run/fleet.sock')).toThrow(/must be an http/);
    expect(() => etcdEndpoints('not a url')).toThrow(/invalid etcd endpoint/);
  });
  it('recognises unreachable-etcd errors', () => {
    expect(isUnreachable(new Error('14 UNAVAILABLE: No connection established'))).toBe(true);
    expect(isUnreachable(new Error('unit name cannot be empty'))).toBe(false);
  });
});

describe('blocking attempts (fleet getBlockAttempts)', () => {
  it('--no-block wins, N>0 is N, default 0 waits forever', () => {
    expect(blockAttempts({ block: false, blockAttempts: 5 })).toBe(-1);
    expect(blockAttempts({ blockAttempts: 3 })).toBe(3);
    expect(blockAttempts({})).toBe(0);
  });
});
