import { composer, lastAnswer, openReport, sendButton, waitForMessages } from './support/app-page.js';
import { contentHash, sampleReport } from './support/api-client.js';
import { expect, test } from './support/fixtures.js';

test('Stop ends the streaming answer: it shows stopped and is stored stopped, with its partial text', async ({ slowServer: server, newPage }) => {
  const { login, api } = await server.createUser('Stopper');
  const report = await api.createReport(sampleReport().title, sampleReport().content);
  const page = await newPage();
  await openReport(page, server.url, login, report.id);

  await composer(page).fill('Summarise the customer satisfaction section.');
  await sendButton(page).click();
  await waitForMessages(page, 'the answer to be streaming with some text', (ms) => {
    const a = lastAnswer(ms);
    return a?.state === 'answering' && a.text.length > 20;
  });
  expect(await composer(page).isDisabled(), 'the input is disabled while this tab’s answer streams').toBe(true);

  await page.getByRole('button', { name: 'Stop' }).click();
  const shown = await waitForMessages(page, 'the answer to show stopped', (ms) => lastAnswer(ms)?.state === 'stopped');

  const stored = await api.messages(report.id);
  expect(stored.map((m) => m.status), 'stored statuses').toEqual(['complete', 'stopped']);
  expect(stored[1]?.content.length ?? 0, 'the length of the stored partial text').toBeGreaterThan(0);
  expect(lastAnswer(shown)?.hash, 'the text on the page equals the stored partial text').toBe(contentHash(stored[1]?.content ?? ''));
  await page.getByText('Stopped', { exact: true }).waitFor({ state: 'visible' });
  expect(await composer(page).isEnabled(), 'the input is enabled again').toBe(true);
});
