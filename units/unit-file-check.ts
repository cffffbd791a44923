// A unit file checked as fleetctl and the watched directory see it: parsed, then validated like the
// API validates options, every refusal one line that says where — `line L, column C: …` at the
// offending character for parse errors, at the name of the offending option for validation problems.
// (The API keeps fleet's messages without a position: its options come as JSON, not lines.)
import { parseLocatedUnitFile } from './parse.js';
import type { UnitOption } from './types.js';
import { findOptionProblem, type OptionProblem, XFLEET_SECTION } from './xfleet.js';

/** The options of a valid unit file; throws UnitParseError (with line and column) for any problem. */
export function checkUnitFile(text: string): UnitOption[] {
  const file = parseLocatedUnitFile(text);
  const problem = findOptionProblem(file.options);
  if (problem === null) return file.options;
  throw file.errorAt(problemIndex(file.options, problem), problem.message);
}

/** Where a problem points: its option, else the first [X-Fleet] option under its keys (in key order). */
function problemIndex(options: readonly UnitOption[], problem: OptionProblem): number {
  if (problem.option !== undefined) {
    const i = options.indexOf(problem.option);
    if (i >= 0) return i;
  }
  for (const key of problem.keys ?? []) {
    const i = options.findIndex(
      (o) =>
        o.section === XFLEET_SECTION &&
        o.name === key &&
        (problem.value === undefined || o.value.includes(problem.value)),
    );
    if (i >= 0) return i;
  }
  return 0;
}
