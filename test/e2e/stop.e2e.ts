import { composer, lastAnswer, openReport, sendButton, waitForMessages } from './support/app-page.js';
import { contentHash, sampleReport } from './support/api-client.js';
import { assert, assertEqual, e2e } from './support/harness.js';

e2e('Stop ends the streaming answer: it shows stopped and is stored stopped, with its partial text', async (ctx) => {
  const server = await ctx.sharedServer('slow');
  const { login, api } = await server.createUser('Stopper');
  const report = await api.createReport(sampleReport().title, sampleReport().content);
  const page = await ctx.newPage();
  await openReport(page, server.url, login, report.id);

  await composer(page).fill('Summarise the customer satisfaction section.');
  await sendButton(page).click();
  await waitForMessages(page, 'the answer to be streaming with some text', (ms) => {
    const a = lastAnswer(ms);
    return a?.state === 'answering' && a.text.length > 20;
  });
  assert(await composer(page).isDisabled(), 'the input is disabled while this tab’s answer streams');

  await page.getByRole('button', { name: 'Stop' }).click();
  const shown = await waitForMessages(page, 'the answer to show stopped', (ms) => lastAnswer(ms)?.state === 'stopped');

  const stored = await api.messages(report.id);
  assertEqual(stored.map((m) => m.status), ['complete', 'stopped'], 'stored statuses');
  assert((stored[1]?.content.length ?? 0) > 0, 'the partial text is stored');
  assertEqual(lastAnswer(shown)?.hash, contentHash(stored[1]?.content ?? ''), 'the text on the page equals the stored partial text');
  await page.getByText('Stopped', { exact: true }).waitFor({ state: 'visible' });
  assert(await composer(page).isEnabled(), 'the input is enabled again');
});
