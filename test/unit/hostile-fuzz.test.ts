// Issue 14 item 9: fuzzing of the hostile-input paths beyond the parser (units-fuzz.test.ts): unit
// names (validation, host-unit rules), [X-Fleet] validation of parsed files, and API unit bodies. No
// exception may escape but the typed ones, and the slowest input is printed (not asserted).
// Runs FUZZ_RUNS inputs per target (default 5,000 in the suite); `npm run fuzz` runs 100,000.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BodyError, decodeUnitBody } from '../../api/decode.js';
import { hostCollisionProblem, reservedUnitProblem } from '../../units/host-units.js';
import { validateUnitName } from '../../units/names.js';
import { parseUnitFile, UnitParseError } from '../../units/parse.js';
import { validateOptions } from '../../units/xfleet.js';
import '../support/fast-check-seed.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 5000);

function timed(what: string, property: (s: string) => void, arb: fc.Arbitrary<string>) {
  let max = 0;
  let worst = '';
  fc.assert(
    fc.property(arb, (s) => {
      const t0 = performance.now();
      property(s);
      const ms = performance.now() - t0;
      if (ms > max) {
        max = ms;
        worst = s.slice(0, 40);
      }
    }),
    { numRuns: RUNS },
  );
  console.log(`[fuzz] ${what}: ${RUNS} inputs, slowest ${max.toFixed(2)} ms (${JSON.stringify(worst)})`);
}

const unitish = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc
    .array(
      fc.oneof(
        fc.constantFrom(
          '[Unit]',
          '[X-Fleet]',
          '[Install]',
          '[Service]',
          'Conflicts=*',
          'MachineOf=a.service',
          'Global=true',
          'Alias=sshd.service',
          'WantedBy=x.target',
          'ExecStart=/bin/true',
          '\\',
          '=',
          '\n',
        ),
        fc.string({ maxLength: 20 }),
      ),
      { maxLength: 40 },
    )
    .map((parts) => parts.join('\n')),
);

describe('hostile-input fuzz (issue 14 item 9)', () => {
  it('unit names: validation and host-unit rules never throw', () => {
    timed(
      'names',
      (name) => {
        validateUnitName(name);
        reservedUnitProblem(name);
      },
      fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.stringMatching(/^[a-z@.\\-]{0,20}\.(service|mount|socket)$/),
      ),
    );
  });

  it('unit files: parse, [X-Fleet] and [Install] validation throw only UnitParseError', () => {
    timed(
      'parse + X-Fleet + Install',
      (text) => {
        try {
          const options = parseUnitFile(text);
          validateOptions(options);
          hostCollisionProblem('fuzz.service', options);
        } catch (err) {
          expect(err).toBeInstanceOf(UnitParseError);
          expect((err as Error).message).not.toContain('\n');
        }
      },
      unitish,
    );
  });

  it('API unit bodies throw only BodyError, one line', () => {
    timed(
      'API bodies',
      (text) => {
        try {
          decodeUnitBody(text);
        } catch (err) {
          expect(err).toBeInstanceOf(BodyError);
          expect((err as Error).message).not.toContain('\n');
        }
      },
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.json({ maxDepth: 6 }),
        fc
          .record({
            name: fc.string(),
            desiredState: fc.string(),
            options: fc.array(fc.record({ section: fc.string(), name: fc.string(), value: fc.string() }), {
              maxLength: 5,
            }),
          })
          .map((o) => JSON.stringify(o)),
      ),
    );
  });
});
