import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GlobIndex, isGlob } from '../../engine/glob-index.js';
import { effectiveReplaces } from '../../engine/replace-graph.js';
import { globMatch } from '../../units/glob.js';

describe('GlobIndex', () => {
  it('finds exactly the patterns that match, like trying every pattern', () => {
    const patterns = [
      'apache@*.service',
      'a*',
      '*',
      'db?.service',
      '[ab]*.socket',
      'x\\*y',
      'apache@1.service',
      '[',
    ];
    const names = [
      'apache@1.service',
      'apache@.service',
      'db1.service',
      'db12.service',
      'a.socket',
      'b.socket',
      'x*y',
      'zzz',
    ];
    const index = new GlobIndex();
    const ids = patterns.map((p) => index.add(p));
    for (const name of names) {
      const expected = ids.filter((id) => globMatch(patterns[id]!, name));
      expect(
        index.matching(name).sort((a, b) => a - b),
        name,
      ).toEqual(expected);
    }
  });

  it('agrees with brute force on random patterns and names', () => {
    const chars = fc.constantFrom('a', 'b', '@', '.', '*', '?', '[', ']', '\\', '-');
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: chars, maxLength: 6 }), { maxLength: 8 }),
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', '@', '.', '-'), maxLength: 6 }), {
          maxLength: 8,
        }),
        (patterns, names) => {
          const index = new GlobIndex();
          const ids = patterns.map((p) => index.add(p));
          for (const name of names) {
            const expected = [...new Set(ids.filter((id) => globMatch(index.pattern(id), name)))].sort(
              (a, b) => a - b,
            );
            expect(index.matching(name).sort((a, b) => a - b)).toEqual(expected);
          }
        },
      ),
    );
  });

  it('the same pattern registered twice gets one id', () => {
    const index = new GlobIndex();
    expect(index.add('a*')).toBe(index.add('a*'));
    expect(index.size).toBe(1);
  });

  it('isGlob spots Go path.Match metacharacters', () => {
    expect(['a*', 'a?', 'a[b]', 'a\\b'].map(isGlob)).toEqual([true, true, true, true]);
    expect(isGlob('apache@1.service')).toBe(false);
  });
});

describe('effectiveReplaces', () => {
  const u = (name: string, ...replaces: string[]) => ({ name, replaces });

  it('a glob replaces every matching unit but never the unit itself', () => {
    const rel = effectiveReplaces([
      u('app@2.service', 'app@*.service'),
      u('app@1.service'),
      u('other.service'),
    ]);
    expect(rel.targets.get('app@2.service')).toEqual(['app@1.service']);
    expect(rel.replacers.get('app@1.service')).toEqual(['app@2.service']);
    expect(rel.replacers.get('other.service')).toBeUndefined();
  });

  it('both directions: ignored', () => {
    const rel = effectiveReplaces([u('a.service', 'b.service'), u('b.service', 'a.*')]);
    expect(rel.targets.size).toBe(0);
    expect(rel.replacers.size).toBe(0);
  });

  it('a three-cycle is ignored, an edge leading out of it is kept', () => {
    const rel = effectiveReplaces([
      u('a.service', 'b.service'),
      u('b.service', 'c.service'),
      u('c.service', 'a.service', 'd.service'),
      u('d.service'),
    ]);
    expect(Object.fromEntries(rel.targets)).toEqual({ 'c.service': ['d.service'] });
  });

  it('exact names of units that do not exist give no edge', () => {
    expect(effectiveReplaces([u('a.service', 'gone.service')]).targets.size).toBe(0);
  });

  it('a chain is kept whole', () => {
    const rel = effectiveReplaces([
      u('v3.service', 'v2.service'),
      u('v2.service', 'v1.service'),
      u('v1.service'),
    ]);
    expect(Object.fromEntries(rel.targets)).toEqual({
      'v2.service': ['v1.service'],
      'v3.service': ['v2.service'],
    });
  });
});
