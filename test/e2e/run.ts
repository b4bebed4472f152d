/**
 * The browser tests: `npm run test:e2e`. Builds the web UI once, launches Chromium once, runs every
 * test/e2e/*.e2e.ts test in turn (each bounded in time), and always stops servers, databases and the browser
 * and removes temp folders. Prints `N passed, N failed` last and exits non-zero on a failure.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { launchBrowser, newPersonContext } from './support/browser.js';
import { registeredTests, type E2EContext, type E2ETest, type SharedServerKind } from './support/harness.js';
import { closeAllServers, startTestServer, type TestServer } from './support/servers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));
/** The local model's answers take ~90 chunks: at 60 ms a chunk about 5 s, long enough to act mid-answer. */
const CHUNK_DELAY_MS: Record<SharedServerKind, string> = { slow: '60', quick: '15' };

/** The cleanups of the test running now, for an interrupted run. */
let currentCleanups: Array<() => Promise<void> | void> = [];
let stopBrowser: (() => Promise<void>) | undefined;
let passed = 0;
let failed = 0;

async function main(): Promise<number> {
  const only = process.argv[2];
  const started = Date.now();
  console.log('building the web UI (vite build)…');
  await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn', mode: 'production' });

  for (const file of readdirSync(HERE).filter((f) => f.endsWith('.e2e.ts')).sort()) {
    await import(pathToFileURL(join(HERE, file)).href);
  }
  const tests = registeredTests().filter((t) => !only || t.name.includes(only));

  let browser: Browser | undefined;
  const shared = new Map<SharedServerKind, Promise<TestServer>>();
  try {
    browser = await launchBrowser();
    const context = browser;
    stopBrowser = async () => {
      await context.close().catch(() => {});
    };
    const sharedServer = (kind: SharedServerKind) => {
      let server = shared.get(kind);
      if (!server) {
        server = startTestServer({ LOCAL_MODEL_CHUNK_DELAY_MS: CHUNK_DELAY_MS[kind] });
        shared.set(kind, server);
      }
      return server;
    };
    for (const test of tests) {
      const ok = await runOne(test, context, sharedServer);
      if (ok) passed++;
      else failed++;
    }
  } catch (err) {
    failed++;
    console.error('the test run could not go on:', err);
  } finally {
    for (const server of shared.values()) {
      await server.then((s) => s.close()).catch((err: unknown) => console.error('closing a shared server failed:', err));
    }
    await browser?.close().catch((err: unknown) => console.error('closing the browser failed:', err));
  }
  console.log(`\nfinished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

async function runOne(
  test: E2ETest,
  browser: Browser,
  sharedServer: (kind: SharedServerKind) => Promise<TestServer>,
): Promise<boolean> {
  const cleanups: Array<() => Promise<void> | void> = [];
  currentCleanups = cleanups;
  const pages: Page[] = [];
  const timeout = new AbortController();
  const servers: TestServer[] = [];
  const ctx: E2EContext = {
    browser,
    signal: timeout.signal,
    async sharedServer(kind) {
      const server = await sharedServer(kind);
      servers.push(server);
      return server;
    },
    async newPage(viewport, options = {}) {
      let page: Page;
      if (options.sameBrowserAs) {
        page = await options.sameBrowserAs.context().newPage();
        if (viewport) await page.setViewportSize(viewport);
      } else {
        const context = await newPersonContext(browser, viewport);
        page = await context.newPage();
        // The context goes with its first page (and any other tab opened in it).
        cleanups.unshift(() => context.close().catch(() => {}));
      }
      pages.push(page);
      page.on('pageerror', (err) => console.log(`    [page error] ${err.message}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) console.log(`    [console] ${msg.text()}`);
      });
      return page;
    },
    defer(fn) {
      cleanups.push(fn);
    },
  };
  const began = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      test.run(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timeout.abort();
          reject(new Error(`timed out after ${test.timeoutMs} ms`));
        }, test.timeoutMs);
      }),
    ]);
    console.log(`✓ ${test.name} (${((Date.now() - began) / 1000).toFixed(1)} s)`);
    return true;
  } catch (err) {
    console.log(`✗ ${test.name} (${((Date.now() - began) / 1000).toFixed(1)} s)`);
    console.log(`    ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`.replace(/\n/g, '\n    '));
    const logs = servers.flatMap((s) => s.logs.slice(-15));
    if (logs.length > 0) console.log(`    last server log lines:\n      ${logs.join('\n      ')}`);
    return false;
  } finally {
    clearTimeout(timer);
    for (const page of pages) await page.close().catch(() => {});
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        console.log(`    cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

// Ctrl+C or a CI timeout: stop what this run started (servers, databases, the browser) and remove its folders.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.removeAllListeners(signal);
  process.once(signal, () => {
    console.log(`\n${signal}: cleaning up…`);
    void (async () => {
      for (const fn of currentCleanups.reverse()) await Promise.resolve().then(fn).catch(() => {});
      await closeAllServers();
      await stopBrowser?.();
      console.log(`${passed} passed, ${failed + 1} failed`); // the interrupted test counts as failed
      process.exit(130);
    })();
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
