// Placement preview (engine/preview.ts, `fleetctl plan`, `sync --dry-run`) and the snapshot it runs on
// (cli/fleetctl/plan-snapshot.ts): what an operator reads before starting units, computed by the engine's
// own planner and never written.
import { describe, expect, it } from 'vitest';
import { stateFromListing } from '../../cli/fleetctl/plan-snapshot.js';
import { renderPreviewJson, renderPreviewTable } from '../../cli/fleetctl/preview-render.js';
import { previewPlacements } from '../../engine/preview.js';
import type { UnitWithTarget } from '../../registry/types.js';
import type { MachineState, UnitOption } from '../../units/types.js';
import { HASH_B, machine, scheduleOf, state, unit } from './engine-fixtures.js';

const L = { hash: 'a'.repeat(40), desiredState: 'launched' } as const;
const rowsOf = (p: ReturnType<typeof previewPlacements>) =>
  p.rows.map((r) => [r.unit, r.change, r.from ?? '-', r.machine ?? '-', r.reason ?? '-', r.proposed]);

describe('placement preview', () => {
  it('places new units on the least-loaded machine able to run them and keeps what runs', () => {
    const s = state(
      [unit('a.service')],
      [machine('m1'), machine('m2', { role: 'db' })],
      scheduleOf({ m1: { 'a.service': L } }),
    );
    const p = previewPlacements(s, {
      units: [unit('b.service'), unit('db.service', { metadata: { role: ['db'] } })],
    });
    expect(p.ok).toBe(true);
    expect(rowsOf(p)).toEqual([
      ['b.service', 'place', '-', 'm2', 'least-loaded machine able to run it', true],
      // m2 took b.service first (name order): db.service still must go there, its only match
      ['db.service', 'place', '-', 'm2', 'least-loaded machine with role=db', true],
    ]);
  });

  it('says why a unit cannot be placed and exits not ok', () => {
    const s = state(
      [unit('apache@1.service')],
      [machine('m1', { role: 'web' }), machine('m2', { role: 'db' })],
      scheduleOf({ m2: { 'apache@1.service': L } }),
    );
    const p = previewPlacements(s, {
      units: [unit('db.service', { metadata: { role: ['db'] }, conflicts: ['apache@*.service'] })],
    });
    expect(p.ok).toBe(false);
    expect(rowsOf(p)).toEqual([
      [
        'db.service',
        'unplaced',
        '-',
        '-',
        '2 machines: 1 lacks role=db, 1 runs apache@1.service which conflicts',
        true,
      ],
    ]);
  });

  it('shows what Replaces moves and what MachineOf takes along', () => {
    const s = state(
      [unit('old.service'), unit('side.service', { machineOf: ['old.service'] })],
      [machine('m1'), machine('m2')],
      scheduleOf({ m1: { 'old.service': L, 'side.service': L } }),
    );
    const p = previewPlacements(s, {
      units: [unit('new.service', { machineID: 'm1', replaces: ['old.service'] })],
    });
    expect(p.ok).toBe(true);
    expect(rowsOf(p)).toEqual([
      ['new.service', 'place', '-', 'm1', 'MachineID=m1', true],
      ['old.service', 'move', 'm1', 'm2', 'replaced by Unit(new.service)', false],
      ['side.service', 'move', 'm1', 'm2', 'peer Unit(old.service) left the machine', false],
    ]);
  });

  it('reports a placed unit that would lose its place (not ok)', () => {
    const s = state([unit('old.service')], [machine('m1')], scheduleOf({ m1: { 'old.service': L } }));
    const p = previewPlacements(s, { units: [unit('new.service', { replaces: ['old.service'] })] });
    expect(p.ok).toBe(false);
    expect(rowsOf(p)).toEqual([
      ['new.service', 'place', '-', 'm1', 'least-loaded machine able to run it', true],
      ['old.service', 'unplaced', 'm1', '-', '1 machine: 1 runs new.service which replaces it', false],
    ]);
  });

  it('keeps units in place, moves a changed unit whose machine no longer fits, skips drained machines', () => {
    const s = state(
      [unit('web.service')],
      [
        machine('m1', { role: 'web' }),
        { ...machine('m2', { role: 'db' }), drained: true },
        machine('m3', { role: 'db' }),
      ],
      scheduleOf({ m1: { 'web.service': L } }),
    );
    const p = previewPlacements(s, {
      units: [unit('web.service', { metadata: { role: ['db'] } }, 'launched', HASH_B), unit('same.service')],
    });
    expect(rowsOf(p)).toEqual([
      ['same.service', 'place', '-', 'm1', 'least-loaded machine able to run it', true],
      [
        'web.service',
        'move',
        'm1',
        'm3',
        'target Machine(m1) unable to run unit: machine metadata does not match',
        true,
      ],
    ]);
  });

  it('global units get one row per machine; cron, inactive and destroyed units say what happens', () => {
    const s = state(
      [unit('gone.service')],
      [machine('m1'), machine('m2', { role: 'x' })],
      scheduleOf({ m2: { 'gone.service': L } }),
    );
    const p = previewPlacements(s, {
      units: [
        unit('g.service', { global: true }),
        unit('gx.service', { global: true, metadata: { role: ['x'] } }),
        unit('tick.service', { schedule: { expression: '*/5 * * * *', missed: 'skip', overlap: 'skip' } }),
        unit('later.service', {}, 'inactive'),
      ],
      destroy: ['gone.service'],
    });
    expect(p.ok).toBe(true);
    expect(rowsOf(p)).toEqual([
      ['g.service', 'place', '-', 'm1', 'global: every machine able to run it', true],
      ['g.service', 'place', '-', 'm2', 'global: every machine able to run it', true],
      ['gone.service', 'stop', 'm2', '-', 'unit destroyed', true],
      ['gx.service', 'place', '-', 'm2', 'global: every machine able to run it', true],
      ['later.service', 'submit', '-', '-', 'desired state inactive: not placed', true],
      [
        'tick.service',
        'cron',
        '-',
        '-',
        'Schedule=*/5 * * * *: one run per tick on a machine chosen then',
        true,
      ],
    ]);
  });

  it('marks changes the engine would make anyway as pending', () => {
    // waiting.service has no place yet although m1 could run it (the engine has not planned yet)
    const s = state([unit('waiting.service')], [machine('m1')]);
    const p = previewPlacements(s, { units: [unit('x.service', { machineID: 'm1' })] });
    expect(p.rows.map((r) => [r.unit, r.change, r.pending ?? false])).toEqual([
      ['waiting.service', 'place', true],
      ['x.service', 'place', false],
    ]);
  });
});

const opt = (section: string, name: string, value: string): UnitOption => ({ section, name, value });
const listed = (
  name: string,
  extra: Partial<UnitWithTarget>,
  options: UnitOption[] = [],
): UnitWithTarget => ({
  name,
  hash: 'a'.repeat(40),
  desiredState: 'launched',
  options,
  global: false,
  ...extra,
});

describe('snapshot from a listing (any driver)', () => {
  const machines: MachineState[] = [machine('m1', { role: 'web' }), machine('m2', { role: 'db' })];
  it('schedules non-global units on their target and globals on every machine they match', () => {
    const s = stateFromListing(
      [
        listed('a.service', { machineID: 'm2' }),
        listed('g.service', { global: true }, [
          opt('X-Fleet', 'Global', 'true'),
          opt('X-Fleet', 'MachineMetadata', 'role=db'),
        ]),
        listed('off.service', { desiredState: 'inactive' }),
        listed('l.service', { desiredState: 'loaded', machineID: 'm1' }),
      ],
      machines,
    );
    const sched = Object.fromEntries([...s.schedule].map(([m, e]) => [m, Object.fromEntries(e)]));
    expect(sched).toEqual({
      m1: { 'l.service': { hash: 'a'.repeat(40), desiredState: 'loaded' } },
      m2: {
        'a.service': { hash: 'a'.repeat(40), desiredState: 'launched' },
        'g.service': { hash: 'a'.repeat(40), desiredState: 'launched', global: true },
      },
    });
    // A converged cluster previews no changes for the units already there.
    expect(previewPlacements(s, { units: [] }).rows).toEqual([]);
  });

  it('renders a fleet-style table and JSON with the listing shape rules', () => {
    const s = stateFromListing([listed('a.service', { machineID: 'm1' })], machines);
    const p = previewPlacements(s, { units: [unit('b.service', { metadata: { role: ['nowhere'] } })] });
    expect(renderPreviewTable(p, machines, { full: true, legend: true })).toBe(
      'UNIT\t\tCHANGE\t\tMACHINE\tREASON\nb.service\tunplaced\t-\t2 machines: 2 lack role=nowhere\n',
    );
    expect(JSON.parse(renderPreviewJson(p, machines))).toEqual([
      {
        unit: 'b.service',
        change: 'unplaced',
        machine: null,
        from: null,
        reason: '2 machines: 2 lack role=nowhere',
        proposed: true,
        pending: false,
      },
    ]);
  });
});
