// Prints each test file's wall time, slowest first, then one plain closing
// line ("jest: N passed, N failed") that CI reads.
const path = require("path");

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const files = results.testResults
      .map((r) => ({ file: path.relative(process.cwd(), r.testFilePath), s: (r.perfStats.end - r.perfStats.start) / 1000 }))
      .filter((f) => Number.isFinite(f.s))
      .sort((a, b) => b.s - a.s);
    if (files.length > 1) {
      const total = files.reduce((a, f) => a + f.s, 0);
      process.stdout.write(`jest: time per file (total ${(total / 60).toFixed(1)} min):\n`);
      for (const f of files) process.stdout.write(`  ${f.s.toFixed(1).padStart(7)} s  ${f.file}\n`);
    }
    const skipped = results.numPendingTests + results.numTodoTests;
    // A suite that fails to compile or load counts as a failure too.
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.stdout.write(
      `jest: ${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`,
    );
  }
}
module.exports = SummaryReporter;
