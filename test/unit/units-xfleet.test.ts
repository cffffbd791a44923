import { describe, expect, it } from 'vitest';
import { parseUnitFile } from '../../units/parse.js';
import { expandSpecifiers } from '../../units/specifiers.js';
import { isDesiredState, parseDesiredState } from '../../units/states.js';
import type { Requirements, UnitOption } from '../../units/types.js';
import {
  isGlobalUnit,
  machineMatchesID,
  machineMatchesMetadata,
  parseMultivalue,
  parseRequirements,
  resolveRequirements,
  validateOptions,
} from '../../units/xfleet.js';

/** Options of a unit whose [X-Fleet] section holds these lines. */
function xfleet(...lines: string[]): UnitOption[] {
  return parseUnitFile(`[Service]\nExecStart=/bin/true\n\n[X-Fleet]\n${lines.join('\n')}\n`);
}

const NO_REQUIREMENTS: Requirements = {
  machineOf: [],
  metadata: {},
  conflicts: [],
  global: false,
  replaces: [],
  unknownKeys: [],
};

describe('expandSpecifiers', () => {
  it.each([
    ['%n', 'foo@bar.service', 'foo@bar.service'],
    ['%N', 'foo@bar.service', 'foo@bar'],
    ['%p', 'foo@bar.service', 'foo'],
    ['%i', 'foo@bar.service', 'bar'],
    ['%i', 'foo.service', ''],
    ['%p', 'foo.service', 'foo'],
    ['%p.socket and %n', 'web@1.service', 'web.socket and web@1.service'],
    ['hostname=%i', 'metadata@node1.service', 'hostname=node1'],
    ['100%% %u %H %m', 'foo@1.service', '100%% %u %H %m'],
    ['%%i', 'foo@1.service', '%1'], // plain replacement, like fleet: %% is not an escape
    ['%i', 'nodot', '%i'], // fleet does not expand for a name without "."
  ])('%j in %s -> %j', (value, unit, expected) => {
    expect(expandSpecifiers(value, unit)).toBe(expected);
  });
});

describe('parseMultivalue (fleet parseMultivalueLine)', () => {
  it.each([
    ['"a=b" "c=d"', ['a=b', 'c=d']],
    ['"a b" "c"', ['a b', 'c']],
    ['a=b c=d', ['a=b c=d']],
    ['"a=b c=d', ['"a=b c=d']],
    ['a=b"', ['a=b"']],
    ['""', ['']],
    ['"a"  "b"', ['a', '', 'b']],
    ['"a"\t"b"', ['a\tb']],
    ['"x"y"z"', ['xyz']],
  ])('%j -> %j', (value, expected) => {
    expect(parseMultivalue(value)).toEqual(expected);
  });
});

describe('parseRequirements', () => {
  it('gives no requirements for a unit without [X-Fleet]', () => {
    expect(parseRequirements(parseUnitFile('[Service]\nExecStart=/bin/true\n'))).toEqual(NO_REQUIREMENTS);
  });

  it('reads every option, keeping the order of values', () => {
    const req = parseRequirements(
      xfleet(
        'MachineOf=a.service',
        'MachineOf="b.service" "c.service"',
        'MachineMetadata="region=us-east-1" "diskType=SSD"',
        'MachineMetadata=region=us-west-1',
        'Conflicts=x*.service  y.service',
        'Conflicts="z.service"',
        'Replaces=old@*.service',
        'Foo=bar',
        'Foo=baz',
      ),
    );
    expect(req).toEqual({
      machineOf: ['a.service', 'b.service', 'c.service'],
      metadata: { region: ['us-east-1', 'us-west-1'], diskType: ['SSD'] },
      conflicts: ['x*.service', 'y.service', 'z.service'],
      global: false,
      replaces: ['old@*.service'],
      unknownKeys: ['Foo'],
    });
  });

  it('uses the first MachineID, preferring MachineID over the deprecated spellings', () => {
    expect(parseRequirements(xfleet('MachineID=aaa', 'MachineID=bbb')).machineID).toBe('aaa');
    expect(parseRequirements(xfleet('X-ConditionMachineID=old', 'MachineID=new')).machineID).toBe('new');
    expect(parseRequirements(xfleet('X-ConditionMachineID=old')).machineID).toBe('old');
    expect(parseRequirements(xfleet('X-ConditionMachineBootID=boot')).machineID).toBe('boot');
    expect(parseRequirements(xfleet('X-ConditionMachineBootID=b', 'X-ConditionMachineID=c')).machineID).toBe(
      'c',
    );
  });

  it('accepts the deprecated aliases (deprecated values first)', () => {
    const req = parseRequirements(
      xfleet(
        'MachineOf=new.service',
        'X-ConditionMachineOf=old.service',
        'MachineMetadata=role=web',
        'X-ConditionMachineMetadata=role=db',
        'Conflicts=new*',
        'X-Conflicts=old*',
      ),
    );
    expect(req.machineOf).toEqual(['old.service', 'new.service']);
    expect(req.metadata).toEqual({ role: ['db', 'web'] });
    expect(req.conflicts).toEqual(['old*', 'new*']);
    expect(req.unknownKeys).toEqual([]);
  });

  it('ignores metadata values fleet ignores (no "=", several "=", an empty side)', () => {
    const req = parseRequirements(
      xfleet(
        'MachineMetadata=novalue',
        'MachineMetadata=a=b=c',
        'MachineMetadata==x',
        'MachineMetadata=k=',
        'MachineMetadata=ok=1',
      ),
    );
    expect(req.metadata).toEqual({ ok: ['1'] });
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['yes', true],
    ['Yes', true],
    ['1', true],
    ['on', true],
    ['ON', true],
    ['t', true],
    ['T', true],
    ['false', false],
    ['0', false],
    ['y', false],
    ['', false],
    ['enabled', false],
  ])('Global=%s is %s', (value, expected) => {
    expect(parseRequirements(xfleet(`Global=${value}`)).global).toBe(expected);
    expect(isGlobalUnit(xfleet(`Global=${value}`))).toBe(expected);
  });

  it('takes the last Global value', () => {
    expect(isGlobalUnit(xfleet('Global=true', 'Global=false'))).toBe(false);
    expect(isGlobalUnit(xfleet('Global=false', 'Global=yes'))).toBe(true);
    expect(isGlobalUnit(xfleet('Global="false" "true"'))).toBe(true);
  });

  it('only reads the [X-Fleet] section', () => {
    const opts = parseUnitFile('[Service]\nGlobal=true\nMachineID=abc\n');
    expect(parseRequirements(opts)).toEqual(NO_REQUIREMENTS);
  });
});

describe('resolveRequirements', () => {
  it('expands specifiers in every value', () => {
    const req = parseRequirements(
      xfleet(
        'MachineID=%i',
        'MachineOf=%p.socket',
        'MachineMetadata=host=%i',
        'Conflicts=%p@*.service',
        'Replaces=%N-old.service',
      ),
    );
    expect(resolveRequirements(req, 'web@node1.service')).toEqual({
      machineID: 'node1',
      machineOf: ['web.socket'],
      metadata: { host: ['node1'] },
      conflicts: ['web@*.service'],
      global: false,
      replaces: ['web@node1-old.service'],
      unknownKeys: [],
    });
  });

  it('drops metadata pairs that expand to an empty side, like fleet', () => {
    const req = parseRequirements(xfleet('MachineMetadata=host=%i', 'MachineMetadata=role=web'));
    expect(resolveRequirements(req, 'plain.service').metadata).toEqual({ role: ['web'] });
  });
});

describe('validateOptions (fleet api.ValidateOptions messages)', () => {
  it.each([
    [['MachineID=abc', 'MachineOf=a.service'], 'MachineID cannot be used with Peers'],
    [['MachineID=abc', 'Conflicts=a*'], 'MachineID cannot be used with Conflicts'],
    [['MachineID=abc', 'Global=true'], 'MachineID cannot be used with Global'],
    [['MachineID=abc', 'Replaces=a*'], 'MachineID cannot be used with Replaces'],
    [['X-ConditionMachineID=abc', 'X-ConditionMachineOf=a.service'], 'MachineID cannot be used with Peers'],
    [['Global=yes', 'MachineOf=a.service'], 'Global cannot be used with Peers'],
    [['Global=1', 'Replaces=a*'], 'Global cannot be used with Replaces'],
    [['Conflicts=a*', 'Replaces=b*'], 'Conflicts cannot be used with Replaces'],
    [
      ['MachineOf=web.service', 'Conflicts=web*'],
      'unresolvable requirements: peer "web.service" matches conflict "web*"',
    ],
    [
      ['MachineOf=web.service', 'Replaces=*.service'],
      'unresolvable requirements: peer "web.service" matches replace "*.service"',
    ],
    [
      ['MachineMetadata=novalue'],
      'invalid MachineMetadata value "novalue": expected key=value with exactly one "=" and a non-empty key and value',
    ],
    [
      ['MachineMetadata=a=b=c'],
      'invalid MachineMetadata value "a=b=c": expected key=value with exactly one "=" and a non-empty key and value',
    ],
    [
      ['MachineMetadata="ok=1" "=x"'],
      'invalid MachineMetadata value "=x": expected key=value with exactly one "=" and a non-empty key and value',
    ],
    [
      ['X-ConditionMachineMetadata=k='],
      'invalid X-ConditionMachineMetadata value "k=": expected key=value with exactly one "=" and a non-empty key and value',
    ],
  ])('%j -> %s', (lines, message) => {
    expect(validateOptions(xfleet(...lines))).toBe(message);
  });

  it.each([
    [[]],
    [['Global=true', 'MachineMetadata=role=web', 'Conflicts=x*']],
    [['MachineID=abc', 'MachineMetadata=role=web']],
    [['MachineOf=a.service', 'Conflicts=b*']],
    [['Replaces=old.service', 'MachineOf=a.service']],
    [['Global=false', 'MachineID=abc']],
    [['Unknown=kept']],
    [['MachineMetadata=host=%i']],
  ])('accepts %j', (lines) => {
    expect(validateOptions(xfleet(...lines))).toBeNull();
  });

  it('reports the parser error of options that would not re-read (line too long)', () => {
    const opts: UnitOption[] = [{ section: 'Service', name: 'A', value: 'x'.repeat(3000) }];
    expect(validateOptions(opts)).toBe('line 2, column 1: line too long (max 2048 bytes)');
  });

  it('refuses options that would change when stored and re-read', () => {
    const msg = (name: string, section: string) =>
      `option "${name}" in section [${section}] would not read back unchanged ` +
      '(surrounding whitespace, a trailing backslash, or "=", newline or "]" where they cannot be stored)';
    expect(validateOptions([{ section: 'S', name: 'A', value: ' padded' }])).toBe(msg('A', 'S'));
    expect(validateOptions([{ section: 'S', name: 'A', value: 'C:\\' }])).toBe(msg('A', 'S'));
    expect(validateOptions([{ section: 'S', name: 'A=B', value: 'x' }])).toBe(msg('A=B', 'S'));
    expect(validateOptions([{ section: 'S', name: 'A', value: 'ok' }])).toBeNull();
  });
});

describe('machine matching', () => {
  const req = parseRequirements(
    xfleet('MachineMetadata="region=us-east-1" "diskType=SSD"', 'MachineMetadata=region=us-west-1'),
  );

  it.each([
    [{ region: 'us-east-1', diskType: 'SSD' }, true],
    [{ region: 'us-west-1', diskType: 'SSD', extra: 'x' }, true],
    [{ region: 'eu-west-1', diskType: 'SSD' }, false],
    [{ region: 'us-east-1', diskType: 'HDD' }, false],
    [{ region: 'us-east-1' }, false],
    [{}, false],
    [{ region: 'US-EAST-1', diskType: 'SSD' }, false],
  ])('metadata %j -> %s (same key OR, different keys AND, exact)', (metadata, expected) => {
    expect(machineMatchesMetadata(req, metadata)).toBe(expected);
  });

  it('no metadata requirement matches every machine', () => {
    expect(machineMatchesMetadata(NO_REQUIREMENTS, {})).toBe(true);
  });

  it('is not fooled by inherited object keys', () => {
    const r = parseRequirements(xfleet('MachineMetadata=toString=x'));
    expect(machineMatchesMetadata(r, {})).toBe(false);
  });

  const id = '113f16a7e3f64b9d8c3e2a2f1d0c9b8a';
  it.each([
    [undefined, true],
    [id, true],
    ['113f16a7', true],
    ['113f16a', false],
    ['113f16a7e', false],
    ['595989bb', false],
  ])('MachineID %s on %s -> %s', (machineID, expected) => {
    const r: Requirements = machineID === undefined ? NO_REQUIREMENTS : { ...NO_REQUIREMENTS, machineID };
    expect(machineMatchesID(r, id)).toBe(expected);
  });

  it('a short machine id matches itself', () => {
    expect(machineMatchesID({ ...NO_REQUIREMENTS, machineID: 'abc' }, 'abc')).toBe(true);
  });
});

describe('desired states', () => {
  it('knows exactly inactive, loaded and launched', () => {
    for (const s of ['inactive', 'loaded', 'launched']) {
      expect(isDesiredState(s)).toBe(true);
      expect(parseDesiredState(s)).toBe(s);
    }
    for (const s of ['', 'Launched', 'running', 'bogus']) expect(isDesiredState(s)).toBe(false);
  });

  it('refuses anything else with a clear message', () => {
    expect(() => parseDesiredState('bogus')).toThrow(
      'invalid desired state "bogus": expected inactive, loaded or launched',
    );
  });
});
