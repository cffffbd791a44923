// The benchmark's cluster and unit mix, as plain data (no I/O): M machines (every other one has
// role=web), and N units: a few global units, then template instances of which ~20% conflict with
// their siblings (Conflicts=spread<g>@*.service, so at most one per machine), ~20% need role=web
// (MachineMetadata), and the rest are unconstrained. Instances of one template share their contents,
// so the registry holds a handful of unit/<hash> keys however many units there are.
import { parseUnitFile } from '../units/parse.js';
import { unitHash } from '../units/serialize.js';
import type { UnitSpec } from '../units/types.js';

export interface BenchMachine {
  readonly id: string;
  readonly publicIP: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface Workload {
  readonly machines: readonly BenchMachine[];
  readonly units: readonly UnitSpec[];
  /** Names of the global units (active once on every machine they may run on). */
  readonly globals: ReadonlySet<string>;
  /** Active (unit, machine) pairs when everything runs: non-global units once, globals per machine. */
  readonly expectedActive: number;
}

export const machineID = (i: number): string => `bench${i.toString(16).padStart(27, '0')}`;

const isWeb = (i: number): boolean => i % 2 === 0;

export function benchMachines(count: number): BenchMachine[] {
  return Array.from({ length: count }, (_, i) => ({
    id: machineID(i),
    publicIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    metadata: { role: isWeb(i) ? 'web' : 'db', idx: String(i) },
  }));
}

function spec(name: string, text: string): UnitSpec {
  const options = parseUnitFile(text);
  return { name, hash: unitHash(options), options, desiredState: 'launched' };
}

const service = (description: string, xfleet = ''): string =>
  `[Unit]\nDescription=${description}\n\n[Service]\nExecStart=/bin/sleep infinity\n${
    xfleet ? `\n[X-Fleet]\n${xfleet}\n` : ''
  }`;

const GLOBALS = [
  { name: 'bench-global-log.service', xfleet: 'Global=true' },
  { name: 'bench-global-mon.service', xfleet: 'Global=true' },
  { name: 'bench-global-web.service', xfleet: 'Global=true\nMachineMetadata=role=web' },
] as const;

export function benchWorkload(unitCount: number, machineCount: number): Workload {
  const machines = benchMachines(machineCount);
  const webMachines = machines.filter((_, i) => isWeb(i)).length;
  const units: UnitSpec[] = [];
  const globals = new Set<string>();
  let expectedActive = 0;
  for (const g of GLOBALS.slice(0, Math.min(GLOBALS.length, unitCount))) {
    units.push(spec(g.name, service(g.name, g.xfleet)));
    globals.add(g.name);
    expectedActive += g.xfleet.includes('role=web') ? webMachines : machineCount;
  }
  // A conflict group can hold at most one instance per machine; half the machines leaves the
  // scheduler room to choose.
  const groupSize = Math.max(1, Math.floor(machineCount / 2));
  const contents = new Map<string, UnitSpec>();
  const instance = (template: string, i: number, text: string): UnitSpec => {
    let base = contents.get(template);
    if (!base) {
      base = spec(template, text);
      contents.set(template, base);
    }
    return { ...base, name: template.replace('@.', `@${i}.`) };
  };
  let conflicting = 0;
  for (let i = 0; units.length < unitCount; i++) {
    const kind = i % 10;
    if (kind < 2) {
      const group = Math.floor(conflicting++ / groupSize);
      const t = `bench-spread${group}@.service`;
      units.push(instance(t, i, service('spread %i', `Conflicts=bench-spread${group}@*.service`)));
    } else if (kind < 4) {
      units.push(instance('bench-web@.service', i, service('web %i', 'MachineMetadata=role=web')));
    } else {
      units.push(instance('bench-app@.service', i, service('app %i')));
    }
    expectedActive++;
  }
  return { machines, units, globals, expectedActive };
}
