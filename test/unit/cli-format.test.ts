import { describe, expect, it } from 'vitest';
import {
  listMachinesColumns,
  listUnitFilesColumns,
  listUnitsColumns,
  renderJson,
  renderTable,
  selectFields,
} from '../../cli/fleetctl/columns.js';
import { machineFullLegend, machineIDLegend, machineLookup } from '../../cli/fleetctl/legend.js';
import { unitModel } from '../../cli/fleetctl/unit-model.js';
import type { UnitWithTarget } from '../../registry/types.js';
import type { MachineState } from '../../units/types.js';

const M: MachineState = {
  id: '113f16a7b2c14e6f9b3f0a0e2a8b6c1d',
  publicIP: '172.17.8.103',
  metadata: { role: 'web', az: 'b' },
  version: 'x',
  disableEngine: false,
};
const lookup = machineLookup([M]);

describe('machine legends', () => {
  it('short, full, with and without IP', () => {
    expect(machineIDLegend(M, false)).toBe('113f16a7...');
    expect(machineFullLegend(M, false)).toBe('113f16a7.../172.17.8.103');
    expect(machineFullLegend(M, true)).toBe('113f16a7b2c14e6f9b3f0a0e2a8b6c1d/172.17.8.103');
    expect(machineFullLegend(lookup('deadbeefcafe'), false)).toBe('deadbeef...');
  });
});

describe('list columns', () => {
  const unit = (over: Partial<UnitWithTarget>): UnitWithTarget => ({
    name: 'a.service',
    hash: 'e55c0aeb33ecf6e5ea5b6f5a4e5e2c1e0e0d0c0b',
    options: [],
    desiredState: 'launched',
    global: false,
    ...over,
  });
  it('list-unit-files: 7-char hash, `-` for missing, global target', () => {
    const t = listUnitFilesColumns(lookup);
    const fields = selectFields(t, 'unit,hash,dstate,state,target,desc,global');
    const out = renderTable(
      t,
      fields,
      [
        unit({ machineID: M.id, currentState: 'launched' }),
        unit({
          name: 'g.service',
          global: true,
          options: [{ section: 'Unit', name: 'Description', value: 'G' }],
        }),
        unit({ name: 'u.service', desiredState: 'inactive', currentState: 'inactive' }),
      ],
      { full: false, legend: true },
    );
    expect(out.split('\n').map((l) => l.split(/\t+/))).toEqual([
      ['UNIT', 'HASH', 'DSTATE', 'STATE', 'TARGET', 'DESC', 'GLOBAL'],
      ['a.service', 'e55c0ae', 'launched', 'launched', '113f16a7.../172.17.8.103', '-', 'false'],
      ['g.service', 'e55c0ae', 'launched', '-', 'global', 'G', 'true'],
      ['u.service', 'e55c0ae', 'inactive', 'inactive', '-', '-', 'false'],
      [''],
    ]);
  });
  it('list-units: `-` for empty systemd fields and hash', () => {
    const t = listUnitsColumns(lookup);
    const out = renderTable(
      t,
      selectFields(t, 'unit,hash,load'),
      [
        {
          unit: 'a.service',
          machineID: M.id,
          hash: '',
          systemd: { load: '', active: 'x', sub: 'y' },
          agentState: 'loaded',
        },
      ],
      { full: false, legend: false },
    );
    expect(out).toBe('a.service\t-\t-\n');
  });
  it('list-machines: metadata sorted by key, `-` when none', () => {
    const t = listMachinesColumns();
    const out = renderTable(t, ['machine', 'metadata'], [M, { ...M, id: 'b', publicIP: '', metadata: {} }], {
      full: false,
      legend: false,
    });
    expect(out).toBe('113f16a7...\taz=b,role=web\nb...\t\t-\n');
    expect(JSON.parse(renderJson(t, ['ip'], [{ ...M, publicIP: '' }]))).toEqual([{ ip: null }]);
  });
  it('--fields validation uses fleet’s messages', () => {
    const t = listMachinesColumns();
    expect(() => selectFields(t, '')).toThrow('Must define output format');
    expect(() => selectFields(t, 'ip,,machine')).toThrow('Invalid key in output format: ""');
    expect(() => selectFields(t, 'constructor')).toThrow('Invalid key in output format: "constructor"');
  });
});

describe('unit names as fleetctl takes them', () => {
  it('mangles like unitNameMangle', () => {
    expect(unitModel.mangle('foo')).toBe('foo.service');
    expect(unitModel.mangle('foo.1')).toBe('foo.1.service');
    expect(unitModel.mangle('dir/bar.socket')).toBe('bar.socket');
    expect(unitModel.mangle('foo.target')).toBe('foo.target.service');
    expect(unitModel.withDefaultType('dir/foo')).toBe('dir/foo.service');
  });
  it('templates and instances', () => {
    expect(unitModel.templateOf('foo@bar.service')).toBe('foo@.service');
    expect(unitModel.templateOf('foo.service')).toBeNull();
    expect(unitModel.isTemplate('foo@.service')).toBe(true);
  });
  it('parse errors name the file and line', () => {
    expect(() => unitModel.parse('[Unit]\n[Service\n', 'x.service')).toThrow(
      /^cannot parse unit file x\.service: line 2: /,
    );
  });
});
