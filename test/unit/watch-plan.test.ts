import { describe, expect, it } from 'vitest';
import {
  classifyDir,
  type DirEntry,
  formatAction,
  planSync,
  type RegistryUnit,
  stateVerb,
  unitOfFileName,
  type WatchAction,
} from '../../cli/watch/plan.js';
import { parseUnitFile } from '../../units/parse.js';
import { unitHash } from '../../units/serialize.js';

const ORIGIN = 'watch:/etc/fleet/units';
const text = (cmd: string) => `[Unit]\nDescription=${cmd}\n\n[Service]\nExecStart=/bin/${cmd}\n`;
const hashOf = (t: string) => unitHash(parseUnitFile(t));
const file = (name: string, contents: string, extra: Partial<DirEntry> = {}): DirEntry => ({
  file: name,
  text: contents,
  ...extra,
});
const reg = (name: string, contents: string, extra: Partial<RegistryUnit> = {}): RegistryUnit => ({
  name,
  hash: hashOf(contents),
  desiredState: 'launched',
  origin: ORIGIN,
  ...extra,
});
const plan = (entries: DirEntry[], registry: RegistryUnit[] = []) =>
  planSync(classifyDir(entries), registry, ORIGIN);
const summary = (actions: readonly WatchAction[]) => actions.map((a) => `${a.kind} ${a.unit}`);

describe('unitOfFileName', () => {
  it.each([
    ['hello.service', 'hello.service', 'launched'],
    ['hello.service.loaded', 'hello.service', 'loaded'],
    ['hello.service.inactive', 'hello.service', 'inactive'],
    ['foo@1.service', 'foo@1.service', 'launched'],
    ['web.socket', 'web.socket', 'launched'],
    ['t.timer.loaded', 't.timer', 'loaded'],
  ])('%s is unit %s, %s', (name, unit, state) => {
    expect(unitOfFileName(name)).toEqual({ unit, desiredState: state });
  });

  it.each([
    '.hello.service',
    '.#hello.service',
    '.hello.service.swp',
    '#hello.service#',
    'hello.service~',
    'hello.service.tmp',
    'hello.service.swp',
    'hello.service.bak',
    'hello.service.dpkg-new',
    'hello.service.rpmnew',
    'README',
    'README.md',
    'hello',
    'hello.service.launched',
    'hello.service.loaded.inactive',
    'a..service',
    'bad name.service',
    '@x.service',
    'x@.device',
  ])('%s is ignored', (name) => {
    expect(unitOfFileName(name)).toHaveProperty('ignored');
  });
});

describe('classifyDir', () => {
  it('parses unit files and computes the hash of their options', () => {
    const [v] = classifyDir([file('a.service', text('a'))]);
    expect(v).toMatchObject({
      kind: 'unit',
      unit: 'a.service',
      desiredState: 'launched',
      hash: hashOf(text('a')),
    });
  });

  it('a template is only a source; an instance link carries its contents', () => {
    const vs = classifyDir([
      file('foo@.service', text('foo')),
      file('foo@1.service', text('foo'), { linkTarget: 'foo@.service' }),
      file('foo@2.service.loaded', text('foo'), { linkTarget: 'foo@.service' }),
    ]);
    expect(vs.map((v) => [v.file, v.kind, 'desiredState' in v ? v.desiredState : null])).toEqual([
      ['foo@.service', 'template', null],
      ['foo@1.service', 'unit', 'launched'],
      ['foo@2.service.loaded', 'unit', 'loaded'],
    ]);
  });

  it('reports a parse error with file and line and holds the unit', () => {
    const [v] = classifyDir([file('a.service', '[Service]\nExecStart=/bin/a\nnot an option\n')]);
    expect(v).toMatchObject({ kind: 'hold', unit: 'a.service', line: 3 });
    expect(v && 'error' in v ? v.error : '').toMatch(/^a\.service: line 3: /);
  });

  it('holds unreadable files, dangling links, empty files, invalid X-Fleet and files being written', () => {
    const vs = classifyDir([
      file('a.service', '', { readError: 'EACCES' }),
      { file: 'b@1.service', linkTarget: 'b@.service', readError: 'ENOENT (link target missing)' },
      file('c.service', ''),
      file('d.service', '[X-Fleet]\nMachineID=abc\nGlobal=true\n'),
      file('e.service', text('e'), { inFlight: true }),
    ]);
    expect(vs.map((v) => v.kind)).toEqual(['hold', 'hold', 'hold', 'hold', 'hold']);
    const errors = vs.map((v) => ('error' in v ? v.error : ''));
    expect(errors[0]).toBe('a.service: cannot read: EACCES');
    expect(errors[1]).toBe('b@1.service -> b@.service: cannot read: ENOENT (link target missing)');
    expect(errors[2]).toMatch(/^c\.service: .*empty/);
    expect(errors[3]).toBe('d.service: line 3: MachineID cannot be used with Global');
    expect(vs[4]).toMatchObject({ pending: true });
  });

  it('holds a unit named by two files (no guessing which one wins)', () => {
    const vs = classifyDir([file('a.service', text('a')), file('a.service.loaded', text('a'))]);
    expect(vs.every((v) => v.kind === 'hold')).toBe(true);
  });

  it('ignores a state suffix on a template and scratch files', () => {
    const vs = classifyDir([file('foo@.service.loaded', text('x')), file('.a.service.swp', 'garbage')]);
    expect(vs.map((v) => v.kind)).toEqual(['ignored', 'ignored']);
  });
});

describe('planSync', () => {
  it('submits new files with their desired state and the origin', () => {
    const p = plan([file('a.service', text('a')), file('b.service.inactive', text('b'))]);
    expect(summary(p.actions)).toEqual(['submit a.service', 'submit b.service']);
    const a = p.actions[0];
    expect(a?.kind === 'submit' && a.spec).toMatchObject({
      desiredState: 'launched',
      origin: ORIGIN,
      hash: hashOf(text('a')),
    });
    const b = p.actions[1];
    expect(b?.kind === 'submit' && b.spec.desiredState).toBe('inactive');
    expect(p.problems).toEqual([]);
  });

  it('does nothing when the registry already matches', () => {
    const p = plan([file('a.service', text('a'))], [reg('a.service', text('a'))]);
    expect(p.actions).toEqual([]);
  });

  it('replaces a changed unit, keeping the registry hash as previousHash', () => {
    const p = plan([file('a.service', text('a2'))], [reg('a.service', text('a'))]);
    expect(p.actions).toMatchObject([
      {
        kind: 'replace',
        unit: 'a.service',
        previousHash: hashOf(text('a')),
        spec: { hash: hashOf(text('a2')) },
      },
    ]);
    expect(p.actions[0]).not.toHaveProperty('rolling');
  });

  it('changes only the desired state when the suffix changes', () => {
    const p = plan([file('a.service.loaded', text('a'))], [reg('a.service', text('a'))]);
    expect(p.actions).toMatchObject([{ kind: 'set-state', from: 'launched', to: 'loaded', verb: 'stop' }]);
  });

  it('destroys units of this origin whose file is gone, and only those', () => {
    const p = plan(
      [],
      [
        reg('gone.service', text('g')),
        reg('cli.service', text('c'), { origin: undefined }),
        reg('other.service', text('o'), { origin: 'watch:/elsewhere' }),
      ],
    );
    expect(summary(p.actions)).toEqual(['destroy gone.service']);
  });

  it('never touches a unit submitted by fleetctl, and says so', () => {
    const p = plan(
      [file('cli.service', text('new'))],
      [reg('cli.service', text('old'), { origin: undefined })],
    );
    expect(p.actions).toEqual([]);
    expect(p.problems).toHaveLength(1);
    expect(p.problems[0]?.message).toMatch(/already exists in the cluster, submitted by fleetctl or the API/);
  });

  it('an invalid file keeps the running version: no action, one problem, other files unaffected', () => {
    const p = plan(
      [file('a.service', '[Service\nExecStart=/bin/a\n'), file('b.service', text('b'))],
      [reg('a.service', text('a'))],
    );
    expect(summary(p.actions)).toEqual(['submit b.service']);
    expect(p.problems).toHaveLength(1);
    expect(p.problems[0]?.message).toMatch(
      /^a\.service: line 1: .*the version in the cluster keeps running$/,
    );
  });

  it('a file still being written is neither submitted nor destroyed', () => {
    const p = plan([file('a.service', '[Serv', { inFlight: true })], [reg('a.service', text('a'))]);
    expect(p.actions).toEqual([]);
    expect(p.problems[0]?.pending).toBe(true);
  });

  it('a broken template link holds its instance instead of destroying it', () => {
    const p = plan(
      [{ file: 'w@1.service', linkTarget: 'w@.service', readError: 'ENOENT (link target missing)' }],
      [reg('w@1.service', text('w'))],
    );
    expect(p.actions).toEqual([]);
  });

  it('rolls launched instances of a changed template one at a time, after all other actions', () => {
    const tpl = text('w2');
    const link = (n: string) => file(n, tpl, { linkTarget: 'w@.service' });
    const p = plan(
      [
        file('w@.service', tpl),
        link('w@3.service'),
        link('w@1.service'),
        link('w@2.service'),
        link('w@4.service.loaded'),
        file('z.service', text('z')),
      ],
      [
        reg('w@1.service', text('w')),
        reg('w@2.service', text('w')),
        reg('w@3.service', text('w')),
        reg('w@4.service', text('w'), { desiredState: 'loaded' }),
      ],
    );
    expect(summary(p.actions)).toEqual([
      'submit z.service',
      'replace w@4.service',
      'replace w@1.service',
      'replace w@2.service',
      'replace w@3.service',
    ]);
    const rolls = p.actions.filter((a) => a.kind === 'replace' && a.rolling);
    expect(rolls.map((a) => a.unit)).toEqual(['w@1.service', 'w@2.service', 'w@3.service']);
    expect(rolls[0]).toMatchObject({ rolling: { template: 'w@.service', updatedPeers: [] } });
  });

  it('a resumed roll knows which instances are already on the new contents', () => {
    const tpl = text('w2');
    const link = (n: string) => file(n, tpl, { linkTarget: 'w@.service' });
    const p = plan(
      [file('w@.service', tpl), link('w@1.service'), link('w@2.service')],
      [reg('w@1.service', tpl), reg('w@2.service', text('w'))],
    );
    expect(p.actions).toMatchObject([
      {
        kind: 'replace',
        unit: 'w@2.service',
        rolling: { template: 'w@.service', updatedPeers: ['w@1.service'] },
      },
    ]);
  });

  it('orders destroy, submit, set-state, replace deterministically', () => {
    const p = plan(
      [file('c.service', text('c2')), file('b.service.inactive', text('b')), file('a.service', text('a'))],
      [reg('c.service', text('c')), reg('b.service', text('b')), reg('d.service', text('d'))],
    );
    expect(summary(p.actions)).toEqual([
      'destroy d.service',
      'submit a.service',
      'set-state b.service',
      'replace c.service',
    ]);
  });

  it('is the same plan whatever order the directory listing came in', () => {
    const entries = [
      file('b.service', text('b')),
      file('a.service', text('a')),
      file('c.service.loaded', text('c')),
    ];
    expect(plan(entries)).toEqual(plan([...entries].reverse()));
  });
});

describe('formatting', () => {
  it('prints one line per action with fleetctl verbs', () => {
    const p = plan(
      [
        file('a.service', text('a')),
        file('b.service.loaded', text('b')),
        file('c.service.loaded', text('c')),
      ],
      [reg('c.service', text('c')), reg('x.service', text('x'))],
    );
    expect(p.actions.map(formatAction)).toEqual([
      'destroy x.service (its file is gone)',
      'submit+start a.service (new file a.service)',
      'submit+load b.service (new file b.service.loaded)',
      'stop c.service (c.service.loaded asks for loaded)',
    ]);
  });

  it('maps desired-state changes to fleetctl verbs', () => {
    expect(stateVerb('inactive', 'launched')).toBe('start');
    expect(stateVerb('loaded', 'launched')).toBe('start');
    expect(stateVerb('launched', 'loaded')).toBe('stop');
    expect(stateVerb('inactive', 'loaded')).toBe('load');
    expect(stateVerb('launched', 'inactive')).toBe('unload');
  });
});
