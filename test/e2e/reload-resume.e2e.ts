import { composer, lastAnswer, openReport, sendButton, waitForMessages, waitUntilLive } from './support/app-page.js';
import { contentHash, sampleReport } from './support/api-client.js';
import { assert, assertEqual, e2e } from './support/harness.js';

e2e('a reload during a streaming answer picks the answer up and completes it on the reloaded page', async (ctx) => {
  const server = await ctx.sharedServer('slow');
  const { login, api } = await server.createUser('Reloader');
  const report = await api.createReport(sampleReport().title, sampleReport().content);
  const page = await ctx.newPage();
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
  assertEqual(beforeStored[1]?.status, 'streaming', 'the stored answer status just after the reload');
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
  assert(resumed.length === 2, 'the reloaded page shows the question and its answer once');

  const stored = await api.messages(report.id);
  assertEqual(stored.map((m) => m.status), ['complete', 'complete'], 'stored statuses');
  assertEqual(final.map((m) => m.id), stored.map((m) => m.id), 'the page shows the stored messages, once each');
  assertEqual(lastAnswer(final)?.hash, contentHash(stored[1]?.content ?? ''), 'the final text on the page equals the stored content');
  assert(lengthsSeen.size > 2, `the answer kept streaming on the reloaded page (lengths seen: ${[...lengthsSeen].join(', ')})`);
});
