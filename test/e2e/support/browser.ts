import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Debian's Chromium, headless. Pages live in contexts of their own (see `newPersonContext`). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ARGS,
    timeout: 30_000,
    // The runner handles Ctrl+C itself: it closes the browser after the servers (run.ts).
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
}

/**
 * A fresh context (its own cookies and storage), as a different person's browser would be. The session cookie is
 * per host, not per port: every test server on 127.0.0.1 would share one cookie jar in a single context.
 */
export function newPersonContext(browser: Browser, viewport = { width: 1280, height: 800 }): Promise<BrowserContext> {
  return browser.newContext({ viewport, acceptDownloads: true });
}
