// `npx tsx bench/hostile-input.ts`: the heavy unit files of issue 14 through the parser and the
// [X-Fleet] validator. Prints wall and CPU time per size with the target; doubling the input should
// roughly double the time (linear), and the largest cases stay under 1 s. Asserts nothing.
import { parseUnitFile } from '../units/parse.js';
import type { UnitOption } from '../units/types.js';
import { validateOptions } from '../units/xfleet.js';

function measure(fn: () => unknown): { wallMs: number; cpuMs: number } {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  fn();
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 };
}

const row = (what: string, r: { wallMs: number; cpuMs: number }, target: string): void =>
  console.log(
    `${what.padEnd(44)} wall ${r.wallMs.toFixed(0).padStart(6)} ms   cpu ${r.cpuMs.toFixed(0).padStart(6)} ms   target ${target}`,
  );

for (const n of [25_000, 50_000, 100_000]) {
  const text = `[Service]\nExecStart=/bin/echo \\\n${'x \\\n'.repeat(n)}end\n`;
  row(
    `parse: ${n} continuation lines (${text.length} B)`,
    measure(() => parseUnitFile(text)),
    n === 100_000 ? '< 1000 ms' : 'linear',
  );
}

for (const n of [1_250, 2_500, 5_000]) {
  const opts: UnitOption[] = [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }];
  for (let i = 0; i < n; i++) opts.push({ section: 'X-Fleet', name: 'Conflicts', value: `c${i}.service` });
  for (let i = 0; i < n; i++) opts.push({ section: 'X-Fleet', name: 'MachineOf', value: `p${i}.service` });
  row(
    `validate: ${n} Conflicts × ${n} MachineOf`,
    measure(() => validateOptions(opts)),
    n === 5_000 ? '< 1000 ms' : 'linear',
  );
}
