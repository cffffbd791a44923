import { describe, expect, it } from 'vitest';
import { mangleUnitName, parseUnitName, RECOGNIZED_UNIT_TYPES, validateUnitName } from '../../units/names.js';

describe('mangleUnitName (fleetctl argument mangling)', () => {
  it.each([
    ['foo', 'foo.service'],
    ['foo.service', 'foo.service'],
    ['foo.1', 'foo.1.service'],
    ['foo.target', 'foo.target.service'],
    ['foo.slice', 'foo.slice.service'],
    ['dir/bar.socket', 'bar.socket'],
    ['/abs/path/to/hello@.service', 'hello@.service'],
    ['./rel/x.timer', 'x.timer'],
    ['dir/', 'dir.service'],
    ['a.path', 'a.path'],
    ['a.device', 'a.device'],
    ['a.mount', 'a.mount'],
    ['a.automount', 'a.automount'],
  ])('%s -> %s', (arg, expected) => {
    expect(mangleUnitName(arg)).toBe(expected);
  });

  it('recognizes exactly the seven types fleetctl knows', () => {
    expect([...RECOGNIZED_UNIT_TYPES].sort()).toEqual(
      ['.automount', '.device', '.mount', '.path', '.service', '.socket', '.timer'].sort(),
    );
  });
});

describe('validateUnitName (fleet api.ValidateName + our path guards)', () => {
  it.each([
    'foo.service',
    'foo@.service',
    'foo@bar.service',
    'foo@bar@baz.service',
    'a.b-c_d:e\\x2d.socket',
    'x.target',
    'x.timer',
    'x.path',
    'x.busname',
    'x.mount',
    'x.swap',
    'x.snapshot',
    'x.scope',
    'x.slice',
    'x.automount',
    'x.device',
    `${'a'.repeat(248)}.service`, // 256 bytes
  ])('accepts %s', (name) => {
    expect(validateUnitName(name)).toBeNull();
  });

  it.each([
    ['', 'unit name cannot be empty'],
    [`${'a'.repeat(249)}.service`, 'unit name exceeds maximum length (256)'],
    [`${'é'.repeat(125)}.service`, 'unit name exceeds maximum length (256)'], // 258 bytes
    ['foo', 'unit name must contain "."'],
    ['foo.', 'unit name cannot end in "."'],
    ['foo.bar', 'invalid unit type: "bar"'],
    ['foo.Service', 'invalid unit type: "Service"'],
    ['foo@bar.mount', 'invalid unit type for template: "mount"'],
    ['foo@.slice', 'invalid unit type for template: "slice"'],
    ['foo bar.service', `invalid character ' ' in unit name`],
    ['foo/bar.service', `invalid character '/' in unit name`],
    ['../x.service', `invalid character '/' in unit name`],
    ['a\u0000b.service', `invalid character '\\x00' in unit name`],
    ['a\nb.service', `invalid character '\\n' in unit name`],
    ['é.service', `invalid character 'é' in unit name`],
    ['a%i.service', `invalid character '%' in unit name`],
    ['@foo.service', 'unit name cannot start in "@"'],
    ['foo..service', 'unit name cannot contain ".."'],
    ['.service', 'unit name cannot start with "."'], // systemd: no prefix before the type
    ['.foo.service', 'unit name cannot start with "."'], // a hidden file on every machine
    ['..service', 'unit name cannot start with "."'],
    ['foo.service/x', 'invalid unit type: "service/x"'],
    ['foo.service/..', 'unit name cannot end in "."'],
  ])('refuses %j: %s', (name, message) => {
    expect(validateUnitName(name)).toBe(message);
  });
});

describe('parseUnitName', () => {
  it('plain unit', () => {
    expect(parseUnitName('foo.service')).toEqual({
      name: 'foo',
      prefix: 'foo',
      instance: '',
      type: 'service',
      isTemplate: false,
      isInstance: false,
    });
  });

  it('template', () => {
    expect(parseUnitName('foo@.service')).toEqual({
      name: 'foo@',
      prefix: 'foo',
      instance: '',
      template: 'foo@.service',
      type: 'service',
      isTemplate: true,
      isInstance: false,
    });
  });

  it('instance: after the first "@", before the last "."', () => {
    expect(parseUnitName('foo@bar@baz.service')).toEqual({
      name: 'foo@bar@baz',
      prefix: 'foo',
      instance: 'bar@baz',
      template: 'foo@.service',
      type: 'service',
      isTemplate: false,
      isInstance: true,
    });
    expect(parseUnitName('web@1.2.socket')).toMatchObject({
      name: 'web@1.2',
      prefix: 'web',
      instance: '1.2',
      template: 'web@.socket',
      type: 'socket',
    });
  });

  it('name without a dot', () => {
    expect(parseUnitName('foo')).toMatchObject({ name: 'foo', prefix: 'foo', instance: '', type: '' });
  });
});
