// fleetctl never sends $FLEETCTL_API_TOKEN in clear text over a network, and refuses short tokens
// (issue 14). Before, the token went to any http:// endpoint and a 1-character token was accepted.
import { describe, expect, it } from 'vitest';
import type { DriverDeps } from '../../cli/fleetctl/client.js';
import { openClient } from '../../cli/fleetctl/driver.js';
import { resolveGlobalOptions } from '../../cli/fleetctl/options.js';

const TOKEN = 'token-0123456789abcdef';
const deps = (apiToken: string): DriverDeps => ({
  apiToken,
  openEtcd: () => {
    throw new Error('not used');
  },
  openTunnel: async () => ({ host: '127.0.0.1', port: 40001, close: async () => {} }),
});
const open = (endpoint: string, apiToken: string, tunnel?: string) =>
  openClient(
    resolveGlobalOptions({ driver: 'api', endpoint, ...(tunnel ? { tunnel } : {}) }, { HOME: '/h' }),
    deps(apiToken),
  );

describe('fleetctl and the API token', () => {
  it.each(['http://10.0.0.5:8080', 'http://fleet.example:8080', 'http://[fd00::5]:8080', 'http://0.0.0.0:1'])(
    'refuses to send the token over plain http to %s, in one line',
    async (endpoint) => {
      await expect(open(endpoint, TOKEN)).rejects.toThrow(
        `Unable to initialize client: refusing to send $FLEETCTL_API_TOKEN in clear text to ${endpoint}: use an https:// endpoint, --tunnel, or a loopback address`,
      );
    },
  );

  it.each(['http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:8080', 'https://10.0.0.5:8080'])(
    'sends it to %s',
    async (endpoint) => {
      const client = await open(endpoint, TOKEN);
      await client.close();
    },
  );

  it('sends it through --tunnel (the local end is loopback, the rest is SSH)', async () => {
    const client = await open('http://10.0.0.5:8080', TOKEN, 'bastion');
    await client.close();
  });

  it('refuses tokens shorter than 16 bytes', async () => {
    await expect(open('https://10.0.0.5:8080', 'x')).rejects.toThrow(
      'Unable to initialize client: $FLEETCTL_API_TOKEN is 1 bytes; it must be at least 16 (e.g. openssl rand -hex 32)',
    );
  });
});
