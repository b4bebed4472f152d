import { composer, lastAnswer, openReport, sendButton, waitForMessages, waitUntilLive } from './support/app-page.js';
import { contentHash, sampleReport } from './support/api-client.js';
import { expect, test } from './support/fixtures.js';

test('a reload during a streaming answer picks the answer up and completes it on the reloaded page', async ({ slowServer: server, newPage }) => {
  const { login, api } = await server.createUser('Reloader');
  const report = await api.createReport(sampleReport().title, sampleReport().content);
  const page = await newPage();
  await openReport(page, server.url, login, report.id);

  await composer(page).fill('What does the report say about escalations and weekend coverage?');
  await sendButton(page).click();
  await waitForMessages(page, 'the answer to be streaming with some text', (ms) => {
    const a = lastAnswer(ms);
    return a?.state === 'answering' && a.text.length > 40;
  });

  await page.reload();
  await waitUntilLive(page);
  const beforeStored = await api.messages(report.id);
  const resumed = await waitForMessages(page, 'the reloaded page to show the answer still streaming', (ms) => {
    const a = lastAnswer(ms);
    return ms.length === 2 && a !== undefined && (a.state === 'answering' || a.state === 'saved');
  });
  // The reload must happen mid-answer, or this test proves nothing.
  expect(beforeStored[1]?.status, 'the stored answer status just after the reload').toBe('streaming');
  const lengthsSeen = new Set<number>();
  const final = await waitForMessages(
    page,
    'the answer to complete on the reloaded page',
    (ms) => {
      const a = lastAnswer(ms);
      if (a) lengthsSeen.add(a.text.length);
      return a?.state === 'saved';
    },
    40_000,
  );
  expect(resumed.length, 'messages the reloaded page shows: the question and its answer once').toBe(2);

  const stored = await api.messages(report.id);
  expect(stored.map((m) => m.status), 'stored statuses').toEqual(['complete', 'complete']);
  expect(final.map((m) => m.id), 'the page shows the stored messages, once each').toEqual(stored.map((m) => m.id));
  expect(lastAnswer(final)?.hash, 'the final text on the page equals the stored content').toBe(contentHash(stored[1]?.content ?? ''));
  expect(lengthsSeen.size, `answer lengths seen on the reloaded page: it kept streaming (${[...lengthsSeen].join(', ')})`).toBeGreaterThan(2);
});
