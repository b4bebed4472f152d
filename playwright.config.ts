import { defineConfig } from '@playwright/test';

/**
 * The browser tests: `npm run test:e2e` (`-- <file filter>`, or `-- -g <title filter>`). The web UI is built once
 * (test/e2e/support/global-setup.ts); each test gets its servers, pages and cleanups from test/e2e/support/fixtures.ts.
 */
export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '*.e2e.ts',
  // One at a time: the machine has two cores, and the tests time answers that stream.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: true,
  timeout: 60_000,
  globalSetup: './test/e2e/support/global-setup.ts',
  // `list` names each test and, for a failure, why; the summary's last line is what .ci/run counts.
  reporter: [['list'], ['./test/e2e/support/summary-reporter.ts']],
  outputDir: 'test-results/e2e',
  use: {
    browserName: 'chromium',
    headless: true,
    // The defaults of playwright-core, which @playwright/test turns off: a stuck action fails in 30 s, not at the test's end.
    actionTimeout: 30_000,
    navigationTimeout: 30_000,
    launchOptions: {
      // Debian's Chromium, never a downloaded one.
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
      timeout: 30_000,
      // Signals are the runner's: on Ctrl+C (or SIGTERM, see the global setup) it stops the worker, whose fixtures then
      // close the browser with the servers and databases.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    },
  },
});
