// fleetctl's per-command unit lookup: one listing for a batch of names, live reads for names the command
// wrote since (so a loop never acts on a copy older than its own writes).
import { describe, expect, it } from 'vitest';
import { unitLookup } from '../../cli/fleetctl/unit-lookup.js';
import type { UnitWithTarget } from '../../registry/types.js';

const unit = (name: string, hash = 'a'.repeat(40)): UnitWithTarget => ({
  name,
  hash,
  options: [],
  desiredState: 'inactive',
  global: false,
});

function fakeClient(initial: UnitWithTarget[]) {
  const units = new Map(initial.map((u) => [u.name, u]));
  const calls = { listUnits: 0, getUnit: [] as string[] };
  return {
    units,
    calls,
    client: {
      listUnits: async () => {
        calls.listUnits++;
        return [...units.values()];
      },
      getUnit: async (name: string) => {
        calls.getUnit.push(name);
        return units.get(name) ?? null;
      },
    },
  };
}

describe('unitLookup', () => {
  it('answers a batch of names from one listing', async () => {
    const f = fakeClient([unit('a.service'), unit('b.service'), unit('c.service')]);
    const l = unitLookup(f.client, 4);
    expect((await l.get('a.service'))?.name).toBe('a.service');
    expect((await l.get('c.service'))?.name).toBe('c.service');
    expect(await l.get('missing.service')).toBeNull();
    expect(f.calls).toEqual({ listUnits: 1, getUnit: [] });
  });

  it('reads one or two names directly', async () => {
    const f = fakeClient([unit('a.service')]);
    const l = unitLookup(f.client, 2);
    expect((await l.get('a.service'))?.name).toBe('a.service');
    expect(await l.get('b.service')).toBeNull();
    expect(f.calls).toEqual({ listUnits: 0, getUnit: ['a.service', 'b.service'] });
  });

  it('reads a name written since the listing again, and sees the write', async () => {
    const f = fakeClient([unit('a.service')]);
    const l = unitLookup(f.client, 3);
    expect(await l.get('t@.service')).toBeNull();
    f.units.set('t@.service', unit('t@.service', 'b'.repeat(40)));
    l.changed('t@.service');
    expect((await l.get('t@.service'))?.hash).toBe('b'.repeat(40));
    expect(f.calls).toEqual({ listUnits: 1, getUnit: ['t@.service'] });
  });
});
