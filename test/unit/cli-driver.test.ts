// openClient's --tunnel wiring with recording fakes: what the tunnel is asked to reach and what etcd
// is then dialled with. (The real tunnel is exercised in test/integration/cli-ssh.test.ts.)
import { describe, expect, it } from 'vitest';
import type { DriverDeps } from '../../cli/fleetctl/client.js';
import { openClient } from '../../cli/fleetctl/driver.js';
import { resolveGlobalOptions } from '../../cli/fleetctl/options.js';
import { sshOptionsFromGlobals } from '../../cli/ssh/options.js';
import { etcdClientOptions } from '../../registry/client.js';
import type { EtcdConnectionOptions, Registry } from '../../registry/types.js';

function recordingDeps(fail?: Error) {
  const tunnels: { host: string; port: number }[] = [];
  const opened: EtcdConnectionOptions[] = [];
  let tunnelClosed = false;
  const deps: DriverDeps = {
    openEtcd: (opts) => {
      opened.push(opts);
      return { close: async () => {} } as unknown as Registry;
    },
    openTunnel: async (_g, host, port) => {
      if (fail) throw fail;
      tunnels.push({ host, port });
      return {
        host: '127.0.0.1',
        port: 40001,
        close: async () => {
          tunnelClosed = true;
        },
      };
    },
  };
  return { deps, tunnels, opened, closed: () => tunnelClosed };
}

const globals = (flags: Record<string, unknown>) =>
  resolveGlobalOptions({ driver: 'etcd', tunnel: 'bastion:2222', ...flags }, { HOME: '/home/u' });

describe('--tunnel and the etcd endpoint', () => {
  it('an IPv6 endpoint is tunnelled to the bare address; etcd is dialled at the local end', async () => {
    const r = recordingDeps();
    const client = await openClient(globals({ endpoint: 'http://[fd00::5]:2379' }), r.deps);
    expect(r.tunnels).toEqual([{ host: 'fd00::5', port: 2379 }]);
    expect(r.opened[0]?.endpoints).toEqual(['http://127.0.0.1:40001']);
    expect(r.opened[0]?.tlsServerName).toBeUndefined();
    await client.close();
    expect(r.closed()).toBe(true);
  });

  it('https through the tunnel verifies the certificate against the original host name', async () => {
    const r = recordingDeps();
    await openClient(globals({ endpoint: 'https://etcd.internal' }), r.deps);
    expect(r.tunnels).toEqual([{ host: 'etcd.internal', port: 443 }]);
    expect(r.opened[0]?.endpoints).toEqual(['https://127.0.0.1:40001']);
    expect(r.opened[0]?.tlsServerName).toBe('etcd.internal');
    const grpc = etcdClientOptions(r.opened[0] as EtcdConnectionOptions).grpcOptions;
    expect(grpc).toMatchObject({ 'grpc.ssl_target_name_override': 'etcd.internal' });
  });

  it('without --tunnel nothing is rewritten', async () => {
    const r = recordingDeps();
    await openClient(globals({ endpoint: 'https://etcd.internal:2379', tunnel: '' }), r.deps);
    expect(r.tunnels).toEqual([]);
    expect(r.opened[0]).toMatchObject({ endpoints: ['https://etcd.internal:2379'] });
    expect(r.opened[0]?.tlsServerName).toBeUndefined();
  });

  it('a tunnel that cannot be opened is one line naming the tunnel host', async () => {
    const r = recordingDeps(new Error('connection refused\nsecond line'));
    await expect(openClient(globals({ endpoint: 'http://10.0.0.1:2379' }), r.deps)).rejects.toThrow(
      /^Unable to initialize client: cannot open SSH tunnel through bastion:2222: connection refused$/,
    );
    expect(r.opened).toEqual([]);
  });
});

describe('SSH settings from the global flags', () => {
  it('the command’s SSH_AUTH_SOCK picks the agent; --ssh-identity-file lists keys', () => {
    const g = resolveGlobalOptions(
      { sshIdentityFile: '/k/a, /k/b', sshUsername: 'me', sshPort: 2200 },
      { HOME: '/home/u' },
    );
    const o = sshOptionsFromGlobals(g, { SSH_AUTH_SOCK: '/run/agent.sock' }, true);
    expect(o).toMatchObject({
      username: 'me',
      port: 2200,
      agentSocket: '/run/agent.sock',
      identityFiles: ['/k/a', '/k/b'],
      forwardAgent: true,
      knownHostsFile: '/home/u/.fleetctl/known_hosts',
    });
    const none = sshOptionsFromGlobals(resolveGlobalOptions({}, { FLEETCTL_SSH_IDENTITY_FILE: '/k/c' }), {});
    expect(none.agentSocket).toBe('');
    expect(none.identityFiles).toEqual(['/k/c']);
    expect(sshOptionsFromGlobals(resolveGlobalOptions({}, {}), {}).identityFiles).toBeUndefined();
  });
});
