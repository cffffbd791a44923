// Reads vitest JSON reports and prints the one closing line CI reads: `N passed, N failed`.
// A report that is missing or has no tests counts as a failure, so a suite can never vanish silently.
import { readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
const files = process.argv.slice(2).filter((f) => !f.includes('*'));
if (files.length === 0) failed += 1;
for (const file of files) {
  try {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    passed += report.numPassedTests ?? 0;
    failed += (report.numFailedTests ?? 0) + (report.numTotalTests === 0 ? 1 : 0);
    // Suites that crashed before running their tests show up as failed test files.
    for (const suite of report.testResults ?? []) {
      if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) failed += 1;
    }
    const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    if (skipped > 0) {
      console.error(`${file}: ${skipped} skipped tests count as failures (nothing may be skipped)`);
      failed += skipped;
    }
  } catch (err) {
    console.error(`cannot read ${file}: ${err.message}`);
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
