import type { Page } from '@playwright/test';
import { startFakeOpenAI } from '../fakes/fake-openai-server.js';
import { composer, lastAnswer, openReport, sendButton, shownMessages, waitForMessages } from './support/app-page.js';
import { sampleReport } from './support/api-client.js';
import { expect, test } from './support/fixtures.js';
import { startTestServer } from './support/servers.js';

const TURNS = 60;

function scrollState(page: Page) {
  return page.$eval('.message-scroll', (el) => ({ top: el.scrollTop, height: el.scrollHeight, client: el.clientHeight }));
}

/** Where a message is, relative to the top of the message list's viewport. */
function offsetOf(page: Page, seq: number) {
  return page.$eval(
    '.message-scroll',
    (el, s) => {
      const item = el.querySelector(`li[data-seq="${s}"]`);
      return item ? item.getBoundingClientRect().top - el.getBoundingClientRect().top : Number.NaN;
    },
    seq,
  );
}

test('a long conversation: newest page first, older pages on scrolling up with the view kept in place, bottom followed only when at the bottom', async ({
  newPage,
  defer,
}) => {
  const fake = await startFakeOpenAI();
  defer(() => fake.close());
  const server = await startTestServer({ LLM_PROVIDER: 'openai-compatible', LLM_BASE_URL: fake.baseUrl, LLM_MODEL: 'fake' });
  defer(() => server.close());
  const { login, token, api } = await server.createUser('Long Talker');
  const report = await api.createReport(sampleReport().title, sampleReport().content);
  for (let i = 1; i <= TURNS; i++) {
    const res = await fetch(`${server.url}/api/reports/${report.id}/messages`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ id: crypto.randomUUID(), content: `Question number ${i}` }),
    });
    if (res.status !== 201) throw new Error(`turn ${i}: ${res.status} ${await res.text()}`);
  }

  const page = await newPage({ width: 1280, height: 800 });
  await openReport(page, server.url, login, report.id);
  let shown = await waitForMessages(page, 'the newest page', (ms) => ms.length === 50);
  expect([shown[0]?.seq, shown.at(-1)?.seq], 'the newest page’s seqs').toEqual([71, 120]);
  let s = await scrollState(page);
  expect(s.height - s.top - s.client, 'the distance from the bottom the list opens at, scrolled to the newest message').toBeLessThan(4);

  // Scrolling to the top loads the page before, and what was on screen stays where it was.
  await page.$eval('.message-scroll', (el) => el.scrollTo({ top: 0 }));
  const before = await offsetOf(page, 71);
  shown = await waitForMessages(page, 'the second page', (ms) => ms.length === 100);
  expect(shown[0]?.seq, 'the first seq after loading an older page').toBe(21);
  const after = await offsetOf(page, 71);
  expect(Math.abs(after - before), `how far the message that was on screen moved (${before} → ${after})`).toBeLessThan(4);
  await page.$eval('.message-scroll', (el) => el.scrollTo({ top: 0 }));
  shown = await waitForMessages(page, 'the whole conversation', (ms) => ms.length === 120);
  expect(shown.map((m) => m.seq), 'every seq once, in order').toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
  await page.getByRole('button', { name: 'Load earlier messages' }).waitFor({ state: 'detached' });

  // A streaming answer is followed while the person is at the bottom…
  fake.setBehavior({ chunks: Array.from({ length: 60 }, (_, i) => `Line ${i} of a long answer.\n\n`), chunkDelayMs: 40 });
  await page.$eval('.message-scroll', (el) => el.scrollTo({ top: el.scrollHeight }));
  await composer(page).fill('A long answer, please');
  await sendButton(page).click();
  await waitForMessages(page, 'the long answer to stream', (ms) => lastAnswer(ms)?.state === 'answering' && (lastAnswer(ms)?.text.length ?? 0) > 200);
  s = await scrollState(page);
  expect(s.height - s.top - s.client, `the distance from the bottom while the list follows the answer (${JSON.stringify(s)})`).toBeLessThan(60);

  // …and left alone when the person has scrolled up to read, even when text lands before the page has handled the
  // scroll: browsers fire the scroll event a frame later, and a delta can be rendered in between. The first time,
  // the page never sees the scroll event at all (a listener swallows it), the extreme of that race.
  let grew = false;
  for (let i = 0; i < 3; i++) {
    const reading = await page.$eval('.message-scroll', (el, late) => {
      if (late) el.addEventListener('scroll', (e) => e.stopImmediatePropagation(), { capture: true, once: true });
      el.scrollBy({ top: -300, behavior: 'instant' });
      return { top: el.scrollTop, height: el.scrollHeight };
    }, i === 0);
    await page.waitForTimeout(300);
    const later = await scrollState(page);
    grew ||= later.height > reading.height;
    expect(later.top, `the scroll position while reading above (scroll ${i + 1})`).toBe(reading.top);
  }
  expect(grew, 'the answer grew meanwhile').toBe(true);
  await waitForMessages(page, 'the long answer to complete', (ms) => lastAnswer(ms)?.state === 'saved', 30_000);
  expect((await shownMessages(page)).length, 'messages shown').toBe(122);
});
