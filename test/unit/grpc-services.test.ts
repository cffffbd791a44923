// The bundles build etcd's gRPC service definitions with scripts/package/grpc-services.cjs instead of
// @grpc/proto-loader (bundle.mjs). Every etcd method must come out the same as proto-loader's: the
// same path, stream flags and client method name, and the same bytes and objects through its
// (de)serializers with etcd3's options.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const requireFromEtcd = createRequire(require.resolve('etcd3'));
const requireFromLoader = createRequire(requireFromEtcd.resolve('@grpc/proto-loader'));
const protoLoader = requireFromLoader('@grpc/proto-loader') as {
  loadSync(file: string, options: object): Record<string, unknown>;
};
const protobuf = requireFromLoader('protobufjs') as {
  Root: new () => { loadSync(file: string, o: object): { toJSON(): object } };
};
const { serviceDefinitions } = require('../../scripts/package/grpc-services.cjs') as {
  serviceDefinitions(pb: unknown, json: object, options: object): Record<string, unknown>;
};

interface Method {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  originalName: string;
  requestSerialize(v: unknown): Buffer;
  requestDeserialize(b: Buffer): unknown;
  responseSerialize(v: unknown): Buffer;
  responseDeserialize(b: Buffer): unknown;
}
type Service = Record<string, Method>;

// etcd3's options (node_modules/etcd3/lib/connection-pool.js).
const OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
const PROTO = join(dirname(requireFromEtcd.resolve('etcd3')), '../proto/rpc.proto');
const expected = protoLoader.loadSync(PROTO, OPTIONS);
const json = new protobuf.Root().loadSync(PROTO, { keepCase: true }).toJSON();
const actual = serviceDefinitions(requireFromLoader('protobufjs/light'), json, OPTIONS);

const servicesOf = (def: Record<string, unknown>) =>
  Object.keys(def).filter((k) => !('format' in (def[k] as object)));

describe('etcd gRPC service definitions without proto-loader', () => {
  it('has every service and method proto-loader has, with the same path, streams and name', () => {
    expect(Object.keys(actual).sort()).toEqual(servicesOf(expected).sort());
    expect(Object.keys(actual)).toContain('etcdserverpb.KV');
    for (const name of Object.keys(actual)) {
      const want = expected[name] as Service;
      const got = actual[name] as Service;
      expect(Object.keys(got).sort(), name).toEqual(Object.keys(want).sort());
      for (const [m, w] of Object.entries(want)) {
        const g = got[m] as Method;
        const pick = (x: Method) => [x.path, x.requestStream, x.responseStream, x.originalName];
        expect(pick(g), `${name}.${m}`).toEqual(pick(w));
      }
    }
  });

  it('encodes and decodes etcd messages exactly as proto-loader does', () => {
    const kv = (s: string) => Buffer.from(s);
    const samples: [string, string, unknown, unknown][] = [
      [
        'etcdserverpb.KV',
        'Range',
        { key: kv('/fleet/'), range_end: kv('/fleet0'), limit: 5 },
        {
          header: { revision: '9007199254740993', member_id: '1' },
          kvs: [{ key: kv('/fleet/a'), value: kv('{}'), mod_revision: '12', version: '3', lease: '0' }],
          count: '1',
          more: false,
        },
      ],
      [
        'etcdserverpb.KV',
        'Txn',
        {
          compare: [{ key: kv('k'), target: 'MOD', result: 'EQUAL', mod_revision: '4' }],
          success: [{ request_put: { key: kv('k'), value: kv('v'), lease: '77' } }],
          failure: [],
        },
        { succeeded: true, responses: [{ response_put: { header: { revision: '5' } } }] },
      ],
      [
        'etcdserverpb.Watch',
        'Watch',
        { create_request: { key: kv('/fleet/'), start_revision: '3' } },
        {
          watch_id: '2',
          events: [{ type: 'DELETE', kv: { key: kv('/fleet/x'), mod_revision: '8' } }],
        },
      ],
      ['etcdserverpb.Lease', 'LeaseGrant', { TTL: '30' }, { ID: '7587869498563458830', TTL: '30' }],
    ];
    for (const [svc, method, request, response] of samples) {
      const w = (expected[svc] as Service)[method] as Method;
      const g = (actual[svc] as Service)[method] as Method;
      const reqBytes = w.requestSerialize(request);
      const resBytes = w.responseSerialize(response);
      expect(g.requestSerialize(request), method).toEqual(reqBytes);
      expect(g.responseSerialize(response), method).toEqual(resBytes);
      expect(g.requestDeserialize(reqBytes), method).toEqual(w.requestDeserialize(reqBytes));
      expect(g.responseDeserialize(resBytes), method).toEqual(w.responseDeserialize(resBytes));
      expect(g.responseDeserialize(resBytes)).not.toEqual({});
    }
  });

  it('refuses an array where a message belongs, as proto-loader does', () => {
    const g = (actual['etcdserverpb.KV'] as Service).Range as Method;
    expect(() => g.requestSerialize([])).toThrow(/expected object with RangeRequest structure/);
  });
});
