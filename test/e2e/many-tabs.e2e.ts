import type { Page } from '@playwright/test';
import { composer, sendButton, shownMessages, signIn, waitForMessages, waitUntilLive, type ShownMessage } from './support/app-page.js';
import { contentHash, sampleReport, type ApiMessage } from './support/api-client.js';
import { eventually } from './support/eventually.js';
import { expect, test } from './support/fixtures.js';

/** More tabs than the 6 HTTP/1.1 connections a browser opens to one host: one events stream per tab would stall them. */
const TABS = 8;

const view = (ms: ShownMessage[]) => ms.map((m) => ({ id: m.id, seq: m.seq, state: m.state, hash: m.hash }));
const storedView = (ms: ApiMessage[]) => ms.map((m) => ({ id: m.id, seq: m.seq, state: 'saved', hash: contentHash(m.content) }));
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

test(
  'eight tabs of one person share one events stream: every tab follows the conversation, and closing the leader tab mid-answer hands over without a loss',
  async ({ slowServer: server, newPage }) => {
    test.setTimeout(180_000);
    const { login, api } = await server.createUser('Many Tabs');
    const report = await api.createReport(sampleReport().title, sampleReport().content);
    const reportUrl = `${server.url}/reports/${report.id}`;

    // Every events request a tab makes, by its Last-Event-ID: who holds the stream, and where it resumed.
    const streams = new Map<Page, number[]>();
    const watchStreams = (tab: Page) => {
      streams.set(tab, []);
      tab.on('request', (req) => {
        if (!new URL(req.url()).pathname.endsWith('/events')) return;
        streams.get(tab)?.push(Number(req.headers()['last-event-id'] ?? NaN));
      });
    };

    // Tabs of one browser: one origin, one session cookie.
    const first = await newPage();
    watchStreams(first);
    await signIn(first, server.url, login, `/reports/${report.id}`);
    await waitUntilLive(first);
    const tabs = [first];
    for (let i = 2; i <= TABS; i++) {
      const tab = await newPage(undefined, { sameBrowserAs: first });
      watchStreams(tab);
      tabs.push(tab);
      try {
        await tab.goto(reportUrl, { timeout: 15_000 });
        await waitUntilLive(tab);
      } catch (err) {
        throw new Error(`tab ${i} of ${TABS} did not load its conversation and go live within 15 s: ${(err as Error).message.split('\n')[0]}`, { cause: err });
      }
    }

    // A question from the last tab: it gets its answer, and every tab shows the stored conversation.
    const last = tabs[TABS - 1]!;
    await composer(last).fill('What drove the growth in ticket volume?');
    await sendButton(last).click();
    await waitForMessages(last, 'the last tab to show its answer saved', (ms) => ms.length === 2 && ms[1]?.state === 'saved', 40_000);
    const firstTurn = await api.messages(report.id);
    expect(firstTurn.map((m) => m.status), 'stored statuses after the first turn').toEqual(['complete', 'complete']);
    for (const [i, tab] of tabs.entries()) {
      await waitForMessages(tab, `tab ${i + 1} to show the stored conversation`, (ms) => same(view(ms), storedView(firstTurn)), 15_000);
    }

    const holders = tabs.filter((t) => (streams.get(t)?.length ?? 0) > 0);
    expect(holders.length, 'tabs that opened an events stream').toBe(1);
    const leader = holders[0]!;
    expect(leader === first, 'the first tab opened holds the stream').toBe(true);
    const leaderFrom = streams.get(leader)![0]!;

    // A second question; while its answer streams, the leader tab closes.
    await composer(last).fill('Why do escalations wait so long?');
    await sendButton(last).click();
    const watcher = tabs.find((t) => t !== leader && t !== last)!;
    const streaming = await waitForMessages(
      watcher,
      'another tab to show the second answer streaming',
      (ms) => ms.length === 4 && ms[3]?.state === 'answering' && ms[3].text.length > 0,
      20_000,
    );
    await leader.close();
    const atClose = await api.messages(report.id);
    expect(atClose[3]?.status, 'the second answer’s status when the leader tab closed').toBe('streaming');

    const remaining = tabs.filter((t) => t !== leader);
    const stored = await eventually(
      'the second answer to be stored complete',
      async () => {
        const ms = await api.messages(report.id);
        return ms.length === 4 && ms.every((m) => m.status === 'complete') ? ms : undefined;
      },
      30_000,
      200,
    );
    for (const tab of remaining) {
      const i = tabs.indexOf(tab) + 1;
      await waitForMessages(tab, `tab ${i} to show the stored conversation after the handover`, (ms) => same(view(ms), storedView(stored)), 20_000);
    }
    expect(stored[3]!.content.length, 'the stored answer’s length: it went on after the leader tab closed').toBeGreaterThan(streaming[3]!.text.length);

    // Exactly one remaining tab took the stream over, resuming after what the tabs had already seen.
    const takers = remaining.filter((t) => (streams.get(t)?.length ?? 0) > 0);
    expect(takers.length, 'tabs that opened an events stream after the leader closed').toBe(1);
    const resumedFrom = streams.get(takers[0]!)![0]!;
    expect(Number.isSafeInteger(resumedFrom), `the new leader’s Last-Event-ID (${resumedFrom}) is a version`).toBe(true);
    expect(resumedFrom, 'the new leader’s Last-Event-ID: after the first leader’s').toBeGreaterThan(leaderFrom);
    for (const tab of remaining) {
      const ms = await shownMessages(tab);
      expect(view(ms), `tab ${tabs.indexOf(tab) + 1} shows`).toEqual(storedView(stored));
    }
  },
);

test('a leader tab about to be frozen hands the events stream over, and follows again when it runs again', async ({ quickServer: server, newPage }) => {
  const { login, api } = await server.createUser('Frozen Tab');
  const report = await api.createReport(sampleReport().title, sampleReport().content);
  // Events streams each tab opened and closed.
  const opened = new Map<Page, number>();
  const closed = new Map<Page, number>();
  const isEvents = (url: string) => new URL(url).pathname.endsWith('/events');
  const watch = (tab: Page) => {
    tab.on('request', (req) => isEvents(req.url()) && opened.set(tab, (opened.get(tab) ?? 0) + 1));
    tab.on('requestfailed', (req) => isEvents(req.url()) && closed.set(tab, (closed.get(tab) ?? 0) + 1));
  };
  const leader = await newPage();
  watch(leader);
  await signIn(leader, server.url, login, `/reports/${report.id}`);
  await waitUntilLive(leader);
  const follower = await newPage(undefined, { sameBrowserAs: leader });
  const sender = await newPage(undefined, { sameBrowserAs: leader });
  for (const tab of [follower, sender]) {
    watch(tab);
    await tab.goto(`${server.url}/reports/${report.id}`, { timeout: 15_000 });
    await waitUntilLive(tab);
  }
  const count = (m: Map<Page, number>, tab: Page) => m.get(tab) ?? 0;
  expect([leader, follower, sender].map((t) => count(opened, t)), 'events streams opened by each tab').toEqual([1, 0, 0]);

  // Headless Chromium does not freeze pages (CDP's Page.setWebLifecycleState has no effect there): the test sends
  // the event a browser sends before it freezes a page (a background tab on a phone, Energy Saver).
  await leader.evaluate(() => document.dispatchEvent(new Event('freeze')));
  await expect.poll(() => count(closed, leader), { message: 'the frozen tab to close its stream', timeout: 10_000, intervals: [100] }).toBe(1);
  await expect
    .poll(() => count(opened, follower) + count(opened, sender), { message: 'another tab to open the stream', timeout: 10_000, intervals: [100] })
    .toBe(1);

  await composer(sender).fill('What drove the growth in ticket volume?');
  await sendButton(sender).click();
  const saved = (ms: ShownMessage[]) => ms.length === 2 && ms.every((m) => m.state === 'saved');
  await waitForMessages(sender, 'the sender to show its answer saved', saved, 30_000);
  const stored = await api.messages(report.id);
  await waitForMessages(follower, 'the follower to show the answer, through the new leader', (ms) => same(view(ms), storedView(stored)), 15_000);

  await leader.evaluate(() => document.dispatchEvent(new Event('resume')));
  await waitForMessages(leader, 'the resumed tab to show the stored conversation', (ms) => same(view(ms), storedView(stored)), 15_000);
  await leader.locator('.live-live').first().waitFor({ state: 'attached', timeout: 10_000 });
  expect([leader, follower, sender].map((t) => count(opened, t) - count(closed, t)).reduce((a, b) => a + b), 'events streams open').toBe(1);
  expect(count(opened, leader), 'events streams the resumed tab opened (it follows now)').toBe(1);
});
