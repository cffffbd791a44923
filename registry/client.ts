// Creates the etcd3 client every part of fleet-ts uses, with settings that fix etcd3's defaults:
// - every unary call gets a deadline (etcd3 has none: a put during an etcd pause hangs forever);
// - no per-host circuit breaker (the default one refuses every call for ~5 s after an etcd restart);
// - UNAVAILABLE answers retried on the other members within the request timeout (an etcd leader
//   election), and a constant 500 ms watch reconnect backoff (the default backoff grows to 30 s).
import { existsSync, readFileSync } from 'node:fs';
import { ConstantBackoff, ExponentialBackoff, handleWhen, noJitterGenerator, noop, retry } from 'cockatiel';
import './etcd3-watch-fix.js';
import { Etcd3, type IOptions, isRecoverableError } from 'etcd3';
import { metrics } from '../metrics/metrics.js';
import type { EtcdConnectionOptions } from './types.js';

/** The system CA bundle: Debian/Ubuntu's, else RHEL/CentOS/Fedora's (the first that exists). */
export const SYSTEM_CA_FILES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];

export function defaultCaFile(exists: (path: string) => boolean = existsSync): string {
  return SYSTEM_CA_FILES.find(exists) ?? (SYSTEM_CA_FILES[0] as string);
}

/**
 * An UNAVAILABLE answer (member down, "leader changed", no leader yet) is retried on the next member,
 * 100, 200, 400, 800, 1000, 1000… ms apart, as many times as fit in the request timeout: with
 * fleetctl's default of 3 s a call outlives the election that follows the loss of etcd's leader member
 * (1–2 s with etcd's defaults). Timeouts are not retried.
 */
export function retryDelaysWithin(budgetMs: number): number[] {
  const delays: number[] = [];
  let total = 0;
  for (let d = 100; total + d <= budgetMs; d = Math.min(d * 2, 1000)) {
    delays.push(d);
    total += d;
  }
  return delays;
}

/** The global retry policy, observed for fleet_etcd_request_* metrics (each call, retries included). */
function measuredGlobalPolicy(budgetMs: number) {
  const policy = retry(handleWhen(isRecoverableError), {
    maxAttempts: retryDelaysWithin(budgetMs).length,
    backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000, generator: noJitterGenerator }),
  });
  policy.onSuccess(({ duration }) => metrics.etcdDuration.observe(duration / 1000));
  policy.onFailure(({ duration }) => {
    metrics.etcdDuration.observe(duration / 1000);
    metrics.etcdErrors.inc();
  });
  return policy;
}

export function etcdClientOptions(opts: EtcdConnectionOptions): IOptions {
  const options: IOptions = {
    hosts: [...opts.endpoints],
    dialTimeout: Math.max(1000, opts.requestTimeoutMs),
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + opts.requestTimeoutMs }),
    faultHandling: {
      host: () => noop,
      global: measuredGlobalPolicy(opts.requestTimeoutMs),
      // etcd3's .d.ts types watchBackoff as IBackoff, but the code calls it as a cockatiel 3 backoff factory.
      watchBackoff: new ConstantBackoff(500) as unknown as NonNullable<
        IOptions['faultHandling']
      >['watchBackoff'],
    },
  };
  if (opts.caFile || opts.certFile || opts.keyFile) {
    options.credentials = {
      rootCertificate: readFileSync(opts.caFile ?? defaultCaFile()),
      ...(opts.keyFile ? { privateKey: readFileSync(opts.keyFile) } : {}),
      ...(opts.certFile ? { certChain: readFileSync(opts.certFile) } : {}),
    };
  }
  if (opts.tlsServerName) {
    options.grpcOptions = {
      'grpc.ssl_target_name_override': opts.tlsServerName,
      'grpc.default_authority': opts.tlsServerName,
    };
  }
  if (opts.username) {
    options.auth = { username: opts.username, password: opts.password ?? '' };
  }
  return options;
}

export function createEtcdClient(opts: EtcdConnectionOptions): Etcd3 {
  return new Etcd3(etcdClientOptions(opts));
}
