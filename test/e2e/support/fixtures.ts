import { test as base, type BrowserContext, type Page } from '@playwright/test';
import { closeAllServers, runningServers, startTestServer, type TestServer } from './servers.js';

export { expect } from '@playwright/test';

type Viewport = { width: number; height: number };

/** What a browser test gets besides Playwright's own fixtures (`browser` among them). */
export interface E2EFixtures {
  /**
   * A page of the shared browser in a context of its own (its own cookies: one person's browser), closed when the
   * test ends. `sameBrowserAs`: another tab in that page's context instead (the same person, the same cookie).
   */
  newPage(viewport?: Viewport, options?: { sameBrowserAs?: Page }): Promise<Page>;
  /** Runs when the test ends, passed or failed, last registered first. */
  defer(cleanup: () => Promise<void> | void): void;
  /** Aborted when the test ends, timed out included, before its cleanups run. */
  signal: AbortSignal;
  /** On a failure, prints the last lines each running server logged. */
  serverLogsOnFailure: void;
}

/**
 * Servers the tests of a worker share, each started when a test first asks for it and stopped when the worker ends:
 * `slowServer` answers (local model, ~5 s an answer) leave time to act mid-answer; `quickServer` ones (~1.5 s) are
 * for tests that only need answers.
 */
export interface E2EWorkerFixtures {
  slowServer: TestServer;
  quickServer: TestServer;
  /** Stops any server still running when the worker ends: one a test's cleanup could not stop, or an interrupted run's. */
  leftoverServers: void;
}

async function serveShared(chunkDelayMs: string, use: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await startTestServer({ LOCAL_MODEL_CHUNK_DELAY_MS: chunkDelayMs });
  await use(server);
  await server.close();
}

const DEFAULT_VIEWPORT: Viewport = { width: 1280, height: 800 };

export const test = base.extend<E2EFixtures, E2EWorkerFixtures>({
  // The local model's answers take ~90 chunks: at 60 ms a chunk about 5 s, long enough to act mid-answer. Each server
  // has a time of its own to start: its embedded PostgreSQL's first start does not eat into the first test's.
  slowServer: [({}, use) => serveShared('60', use), { scope: 'worker', timeout: 60_000 }],
  quickServer: [({}, use) => serveShared('15', use), { scope: 'worker', timeout: 60_000 }],
  leftoverServers: [
    async ({}, use) => {
      await use();
      await closeAllServers();
    },
    { scope: 'worker', auto: true },
  ],

  defer: async ({}, use) => {
    const cleanups: Array<() => Promise<void> | void> = [];
    await use((cleanup) => void cleanups.push(cleanup));
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        console.log(`    cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  },

  // Depends on `defer` so that it is aborted before the test's cleanups run.
  signal: async ({ defer: _defer }, use) => {
    const controller = new AbortController();
    await use(controller.signal);
    controller.abort();
  },

  // Depends on `defer` so that its contexts close before the test's cleanups stop the servers they talk to.
  newPage: async ({ browser, defer: _defer }, use) => {
    const contexts: BrowserContext[] = [];
    await use(async (viewport, options = {}) => {
      let page: Page;
      if (options.sameBrowserAs) {
        page = await options.sameBrowserAs.context().newPage();
        if (viewport) await page.setViewportSize(viewport);
      } else {
        // A context per person: the session cookie is per host, not per port, so every test server on 127.0.0.1
        // would share one cookie jar in a single context.
        const context = await browser.newContext({ viewport: viewport ?? DEFAULT_VIEWPORT, acceptDownloads: true });
        contexts.push(context);
        page = await context.newPage();
      }
      page.on('pageerror', (err) => console.log(`    [page error] ${err.message}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) console.log(`    [console] ${msg.text()}`);
      });
      return page;
    });
    for (const context of contexts.reverse()) await context.close().catch(() => {});
  },

  // Depends on `defer` so that the servers a test started itself are still running (and listed) when it looks.
  serverLogsOnFailure: [
    async ({ defer: _defer }, use, testInfo) => {
      await use();
      if (testInfo.status !== 'failed' && testInfo.status !== 'timedOut') return;
      for (const server of runningServers()) {
        const lines = server.logs.slice(-15);
        if (lines.length > 0) console.log(`    last log lines of the server at ${server.url}:\n      ${lines.join('\n      ')}`);
      }
    },
    { auto: true },
  ],
});
