import type { FullResult, Reporter, TestCase, TestError, TestResult } from '@playwright/test/reporter';

/**
 * Ends the run's output with one line, `N passed, N failed`, which .ci/run adds to its totals. A test counts by its
 * last attempt; an interrupted one (Ctrl+C, SIGTERM) counts as failed, and so does an error outside any test (the
 * global setup, a worker's teardown), so that no fault leaves the count clean.
 */
export default class SummaryReporter implements Reporter {
  private readonly last = new Map<TestCase, TestResult>();
  private errors = 0;

  printsToStdio(): boolean {
    return true;
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    this.last.set(test, result);
  }

  onError(_error: TestError): void {
    this.errors++;
  }

  onEnd(_result: FullResult): void {
    if (this.last.size === 0 && this.errors === 0) return; // `--list`: nothing ran
    let passed = 0;
    let failed = this.errors;
    for (const [test, result] of this.last) {
      if (result.status === 'skipped') continue;
      if (result.status === test.expectedStatus) passed++;
      else failed++;
    }
    console.log(`${passed} passed, ${failed} failed`);
  }
}
