// fleet's API v1 against a real etcd: PATCH /machines (metadata ops) and pagination of every list.
import { describe, expect, it } from 'vitest';
import { unitHash } from '../../units/serialize.js';
import { errorBody, M1, M2, opts, reg, seedMachines, unix, useApiServer } from './api-contract-helpers.js';
import { http, json } from './api-helpers.js';

useApiServer();

describe('PATCH /machines', () => {
  const patch = (ops: unknown) => http(unix, 'PATCH', '/fleet/v1/machines', json(ops));
  const metadataOf = async (id: string) => {
    const page = JSON.parse((await http(unix, 'GET', '/fleet/v1/machines')).body) as {
      machines: { id: string; metadata?: Record<string, string> }[];
    };
    return page.machines.find((m) => m.id === id)?.metadata;
  };

  it('add, replace and remove (a tombstone that hides configured metadata): 204', async () => {
    await seedMachines();
    expect(
      (
        await patch([
          { op: 'add', path: `/${M2}/metadata/role`, value: { value: 'db' } },
          { op: 'replace', path: `/${M1}/metadata/name`, value: { value: 'renamed' } },
          { op: 'remove', path: `/${M1}/metadata/idx` },
        ])
      ).status,
    ).toBe(204);
    expect(await metadataOf(M2)).toEqual({ role: 'db' });
    expect(await metadataOf(M1)).toEqual({ name: 'renamed' });
    expect(
      (await patch([{ op: 'add', path: '/unknown-machine/metadata/k', value: { value: 'v' } }])).status,
    ).toBe(204);
  });

  it('fleet’s 400s, and nothing is applied when any op is bad', async () => {
    await seedMachines();
    const cases: [unknown, string][] = [
      [
        [{ op: 'move', path: `/${M1}/metadata/a`, value: { value: 'x' } }],
        'invalid op: expect add, remove, or replace',
      ],
      [[{ op: 'add', path: `/${M1}/meta/a`, value: { value: 'x' } }], 'machine metadata path invalid'],
      [[{ op: 'add', path: '/../metadata/a', value: { value: 'x' } }], 'machine metadata path invalid'],
      [[{ op: 'add', path: `/${M1}/metadata/a` }], 'invalid value: add and replace require a value'],
      [
        [
          { op: 'add', path: `/${M1}/metadata/ok`, value: { value: 'x' } },
          { op: 'add', path: `/${M1}/metadata/bad/key`, value: { value: 'x' } },
        ],
        'machine metadata path invalid',
      ],
    ];
    for (const [ops, message] of cases) {
      const r = await patch(ops);
      expect([r.status, r.body]).toEqual([400, errorBody(400, message)]);
    }
    const plain = await patch([{ op: 'add', path: `/${M1}/metadata/a`, value: 'x' }]);
    expect(plain.status).toBe(400);
    expect(JSON.parse(plain.body).error.message).toMatch(
      /^json: cannot unmarshal string into Go struct field/,
    );
    expect(await metadataOf(M1)).toEqual({ idx: '1', name: 'of1' });
  });
});

describe('pagination', () => {
  it('pages of token_limit with fleet’s tokens; a full last page still sets a token; {} after the end', async () => {
    const names = Array.from({ length: 250 }, (_, i) => `p${String(i).padStart(3, '0')}.service`);
    const o = opts('p');
    await Promise.all(
      names.map((name) => reg.createUnit({ name, hash: unitHash(o), options: o, desiredState: 'inactive' })),
    );
    const seen: string[] = [];
    const tokens: string[] = [];
    let path = '/fleet/v1/units?alt=json';
    for (;;) {
      const page = JSON.parse((await http(unix, 'GET', path)).body) as {
        units?: { name: string }[];
        nextPageToken?: string;
      };
      seen.push(...(page.units ?? []).map((u) => u.name));
      if (!page.nextPageToken) break;
      tokens.push(page.nextPageToken);
      path = `/fleet/v1/units?alt=json&nextPageToken=${encodeURIComponent(page.nextPageToken)}`;
    }
    expect(seen).toEqual(names);
    expect(tokens).toEqual(['ZAACAA==', 'ZAADAA==']);
    const key = (o: object) => Object.keys(o);
    expect(key(JSON.parse((await http(unix, 'GET', '/fleet/v1/units')).body))).toEqual([
      'nextPageToken',
      'units',
    ]);

    // Exactly 200 units: page 2 is full, so it carries a token to an empty page. A client pages from
    // a first page, which reads afresh (later pages are cut from its listing, see api-paging.test.ts).
    await Promise.all(names.slice(200).map((n) => reg.destroyUnit(n)));
    expect(JSON.parse((await http(unix, 'GET', '/fleet/v1/units')).body).nextPageToken).toBe('ZAACAA==');
    const p2 = JSON.parse((await http(unix, 'GET', '/fleet/v1/units?nextPageToken=ZAACAA==')).body);
    expect(p2.nextPageToken).toBe('ZAADAA==');
    expect((await http(unix, 'GET', '/fleet/v1/units?nextPageToken=ZAADAA==')).body).toBe('{}');
  });

  it('bad tokens: fleet’s 400 messages, on every list endpoint', async () => {
    const limit50 = Buffer.from([50, 0, 1, 0]).toString('base64url');
    const page0 = Buffer.from([100, 0, 0, 0]).toString('base64');
    const cases: [string, string][] = [
      ['garbage', 'illegal base64 data at input byte 4'],
      ['!!!!', 'illegal base64 data at input byte 0'],
      [`${limit50}==`, 'token limit must be 100'],
      [page0, 'token page must be greater than zero'],
      ['ZAA=', 'unexpected EOF'],
    ];
    for (const list of ['units', 'machines', 'state']) {
      for (const [tok, message] of cases) {
        const r = await http(unix, 'GET', `/fleet/v1/${list}?nextPageToken=${encodeURIComponent(tok)}`);
        expect([list, tok, r.status, r.body]).toEqual([list, tok, 400, errorBody(400, message)]);
      }
      const two = await http(unix, 'GET', `/fleet/v1/${list}?nextPageToken=ZAACAA==&nextPageToken=ZAACAA==`);
      expect([two.status, two.body]).toEqual([400, errorBody(400, 'too many values for page token')]);
    }
  });
});
