// An etcd as docs/etcd-security.md runs it, for e2e tests: TLS with client-certificate authentication
// (--client-cert-auth) and etcd's own authentication enabled (a root user with a password), plus a
// throwaway CA that issues client certificates whose CN is the etcd user they log in as. etcdctl and
// openssl are the host's (Debian's etcd-client and openssl); missing ones fail loudly.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EtcdServer, startEtcd } from './etcd.js';

export interface IssuedCert {
  readonly cert: string;
  readonly key: string;
}

export interface SecureEtcd {
  readonly etcd: EtcdServer;
  /** Client port; the server certificate is valid for 127.0.0.1 and every listen host. */
  readonly port: number;
  readonly caFile: string;
  /** A client certificate signed by the CA, subject CN=`cn` (the etcd user it logs in as). */
  issue(name: string, cn: string): IssuedCert;
  /** etcdctl (API v3) as root, against 127.0.0.1; throws with etcdctl's stderr when it fails. */
  etcdctlAsRoot(args: readonly string[], input?: string): string;
  /** The environment for etcdctl as root (ETCDCTL_*), for scripts such as `fleetctl etcd-roles`'s. */
  readonly rootEnv: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

const ROOT_PASSWORD = 'root-password-0123456789';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function startSecureEtcd(opts: { listenHosts?: readonly string[] } = {}): Promise<SecureEtcd> {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-ts-secure-etcd-'));
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const caFile = join(dir, 'ca.crt');
  openssl(
    ['req', '-x509', '-new', ...EC_KEY, '-keyout', 'ca.key', '-out', caFile].concat([
      '-days',
      '2',
      '-subj',
      '/CN=fleet-ts e2e CA',
    ]),
  );
  const issue = (name: string, cn: string, extensions = 'extendedKeyUsage=clientAuth\n'): IssuedCert => {
    const cert = join(dir, `${name}.crt`);
    const key = join(dir, `${name}.key`);
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(['req', '-new', ...EC_KEY, '-keyout', key, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    openssl(
      ['x509', '-req', '-in', `${name}.csr`, '-CA', caFile, '-CAkey', 'ca.key', '-CAcreateserial'].concat([
        '-days',
        '2',
        '-out',
        cert,
        '-extfile',
        `${name}.ext`,
      ]),
    );
    return { cert, key };
  };
  const hosts = ['127.0.0.1', ...(opts.listenHosts ?? [])];
  const server = issue(
    'server',
    'etcd',
    `subjectAltName=${hosts.map((h) => `IP:${h}`).join(',')}\nextendedKeyUsage=serverAuth,clientAuth\n`,
  );
  const root = issue('root', 'root');
  const etcd = await startEtcd({
    extraListenHosts: opts.listenHosts ?? [],
    tls: { certFile: server.cert, keyFile: server.key, caFile },
  });
  const baseEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ETCDCTL_API: '3',
    ETCDCTL_ENDPOINTS: etcd.endpoint,
    ETCDCTL_CACERT: caFile,
    ETCDCTL_CERT: root.cert,
    ETCDCTL_KEY: root.key,
  };
  const rootEnv = { ...baseEnv, ETCDCTL_USER: `root:${ROOT_PASSWORD}` };
  const etcdctl = (args: readonly string[], env: Record<string, string>, input = ''): string => {
    try {
      return execFileSync('etcdctl', args, { input, stdio: ['pipe', 'pipe', 'pipe'], env }).toString();
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
      throw new Error(`etcdctl ${args.join(' ')}: ${stderr || (err as Error).message}`);
    }
  };
  try {
    // The operator's steps before `etcdctl auth enable`: a root user holding the root role.
    etcdctl(['user', 'add', 'root', '--interactive=false'], baseEnv, `${ROOT_PASSWORD}\n`);
    etcdctl(['user', 'grant-role', 'root', 'root'], baseEnv);
    etcdctl(['auth', 'enable'], baseEnv);
  } catch (err) {
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    etcd,
    port: etcd.clientPort,
    caFile,
    issue: (name, cn) => issue(name, cn),
    etcdctlAsRoot: (args, input) => etcdctl(args, rootEnv, input),
    rootEnv,
    stop: async () => {
      await etcd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
