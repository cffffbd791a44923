// What every refused unit file must look like (issue 14 item 9): a UnitParseError whose message is one
// line starting with where the problem is.
import { expect } from 'vitest';
import { UnitParseError } from '../../units/parse.js';

export const POSITIONED_ONE_LINE = /^line [1-9]\d*, column [1-9]\d*: [^\n\r]+$/;

export function expectPositionedRefusal(err: unknown): void {
  expect(err).toBeInstanceOf(UnitParseError);
  expect((err as Error).message).toMatch(POSITIONED_ONE_LINE);
}
