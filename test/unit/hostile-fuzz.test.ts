// Issue 14 item 9: fuzzing of the hostile-input paths: unit files through the parser and the [X-Fleet]
// and [Install] checks (100,000 inputs in every run, CI's included, from a fixed seed: about 20 s of
// CPU), unit names (validation, host-unit rules) and API unit bodies (FUZZ_RUNS each, default 5,000;
// `npm run fuzz` runs 100,000). No exception may escape but the typed ones, every refusal of a unit
// file is one line with its position (`line L, column C: …`), and the slowest input is printed (not
// asserted). test/unit/hostile-cases.test.ts feeds the issue's own hostile inputs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BodyError, decodeUnitBody } from '../../api/decode.js';
import { hostCollisionProblem, reservedUnitProblem } from '../../units/host-units.js';
import { validateUnitName } from '../../units/names.js';
import { checkUnitFile } from '../../units/unit-file-check.js';
import '../support/fast-check-seed.js';
import { expectPositionedRefusal } from '../support/unit-refusal.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 5000);
/** Parser inputs per run: issue 14 asks for 100,000 in CI. */
const PARSER_RUNS = Math.max(100_000, RUNS);
/** The parser run's seed, fixed everywhere (FC_SEED replays another): CI sees the same 100,000 inputs. */
const PARSER_SEED = Number(process.env.FC_SEED ?? 20261205);

function timed(
  what: string,
  property: (s: string) => void,
  arb: fc.Arbitrary<string>,
  params: { numRuns: number; seed?: number } = { numRuns: RUNS },
) {
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
    params,
  );
  console.log(
    `[fuzz] ${what}: ${params.numRuns} inputs, slowest ${max.toFixed(2)} ms (${JSON.stringify(worst)})`,
  );
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
          'MachineID=abc',
          'X-ConditionMachineOf=a.service',
          'Replaces=a*',
          'MachineMetadata=a=b=c',
          'StopOnDisconnect=true',
          'Schedule=* * * * *',
          'HealthCheck=/bin/true',
          'HealthCheckTimeoutSec=soon',
          'A=x \\ ',
          '\\',
          '=',
          '\n',
          '\r',
          '\u0000',
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

  it(`unit files: ${PARSER_RUNS} inputs through parse, [X-Fleet] and [Install]; refusals are one positioned line`, () => {
    let refused = 0;
    timed(
      'parse + X-Fleet + Install',
      (text) => {
        let options: ReturnType<typeof checkUnitFile>;
        try {
          options = checkUnitFile(text);
        } catch (err) {
          expectPositionedRefusal(err);
          refused++;
          return;
        }
        const problem = hostCollisionProblem('fuzz.service', options);
        if (problem !== null) expect(problem).not.toMatch(/[\n\r]/);
      },
      unitish,
      { numRuns: PARSER_RUNS, seed: PARSER_SEED },
    );
    console.log(
      `[fuzz] unit files: ${refused} refused, ${PARSER_RUNS - refused} accepted (seed ${PARSER_SEED})`,
    );
    // Guards the generator: inputs that all pass (or all fail) would prove little.
    expect(refused).toBeGreaterThan(PARSER_RUNS / 10);
    expect(refused).toBeLessThan(PARSER_RUNS * 0.9);
  }, 600_000);

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
