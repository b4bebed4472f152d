import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres.js';
import { startProxy } from '../support/proxies.js';
import { composer, sendButton, signIn, waitForMessages, waitUntilLive } from './support/app-page.js';
import { sampleReport } from './support/api-client.js';
import { expect, test } from './support/fixtures.js';
import { makeTempDir, removeTempDir, startTestServer, type TestServer } from './support/servers.js';

/** Twice the six HTTP/1.1 connections a browser opens to one host: each tab here holds an events stream of its own. */
const TABS = 12;

test(
  'twelve tabs of one report in one browser, through nginx (TLS, HTTP/2) in front of three instances: each goes live and streams the answer',
  async ({ browser, defer }) => {
    test.setTimeout(180_000);
    // Three instances on one PostgreSQL, nginx with deploy/nginx.conf in front of them.
    const dir = makeTempDir('report-chat-e2e-h2-');
    defer(() => removeTempDir(dir));
    const pg = await startEmbeddedPostgres(join(dir, 'pg'));
    defer(() => pg.stop());
    const instances: TestServer[] = [];
    // Answers slow enough that each of twelve tabs, looked at in turn on a busy machine, finds one still streaming.
    for (let i = 0; i < 3; i++) {
      const server = await startTestServer({ DATABASE_URL: pg.url, LOCAL_MODEL_CHUNK_DELAY_MS: '150', TRUST_PROXY: '1' });
      defer(() => server.close());
      instances.push(server);
    }
    const nginx = await startProxy('nginx', instances.map((s) => Number(new URL(s.url).port)));
    defer(() => nginx.stop());

    // One owner; every other tab is another person (an API token is kept per tab), so that each tab leads an
    // events stream of its own instead of sharing one: twelve streams from one browser to one host.
    const owner = await instances[0]!.createUser('Tab Owner');
    const report = await owner.api.createReport(sampleReport().title, sampleReport().content);
    const tokens = [owner.token];
    for (let i = 2; i <= TABS; i++) {
      const viewer = await instances[i % 3]!.createUser(`Tab Viewer ${String.fromCharCode(64 + i)}`);
      await owner.api.share(report.id, viewer.userId, 'viewer');
      tokens.push(viewer.token);
    }

    // The certificate is the self-signed one nginx's start made: this browser context accepts it.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ignoreHTTPSErrors: true });
    defer(() => context.close());
    const tabs: Page[] = [];
    const eventsRequests: string[] = [];
    for (const [i, token] of tokens.entries()) {
      const tab = await context.newPage();
      tab.on('request', (req) => {
        if (new URL(req.url()).pathname.endsWith('/events')) eventsRequests.push(req.url());
      });
      tabs.push(tab);
      try {
        await signIn(tab, nginx.url, { token }, `/reports/${report.id}`);
        await waitUntilLive(tab);
      } catch (err) {
        throw new Error(`tab ${i + 1} of ${TABS} did not load its conversation and go live within 15 s: ${(err as Error).message.split('\n')[0]}`, {
          cause: err,
        });
      }
    }
    const protocols = await Promise.all(
      tabs.map((tab) => tab.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol)),
    );
    expect([...new Set(protocols)], 'protocols the tabs were served with').toEqual(['h2']);

    // A question from the owner's tab: every tab sees its answer while it streams, then saved.
    const sender = tabs[0]!;
    await composer(sender).fill('What drove the growth in ticket volume?');
    await sendButton(sender).click();
    await Promise.all(
      tabs.map((tab, i) =>
        waitForMessages(tab, `tab ${i + 1} to show the answer streaming`, (ms) => ms.length === 2 && ms[1]?.state === 'answering' && ms[1].text.length > 0, 20_000),
      ),
    );
    await Promise.all(
      tabs.map((tab, i) => waitForMessages(tab, `tab ${i + 1} to show the answer saved`, (ms) => ms.length === 2 && ms[1]?.state === 'saved', 40_000)),
    );
    const stored = await owner.api.messages(report.id);
    expect(stored.map((m) => m.status), 'stored statuses').toEqual(['complete', 'complete']);
    expect(eventsRequests.length, `events streams: one per tab (${TABS})`).toBeGreaterThanOrEqual(TABS);
  },
);
