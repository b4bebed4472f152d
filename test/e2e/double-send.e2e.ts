import { composer, openReport, sendButton, signIn, waitForMessages } from './support/app-page.js';
import { sampleReport } from './support/api-client.js';
import { expect, test } from './support/fixtures.js';

const allSettled = (ms: Array<{ state: string }>) => ms.every((m) => !['sending', 'queued', 'answering'].includes(m.state));

test('a double click on Send and a double Enter each store exactly one turn', async ({ quickServer: server, newPage }) => {
  const { login, api } = await server.createUser('Double Sender');
  const report = await api.createReport(sampleReport().title, sampleReport().content);
  const page = await newPage();
  await openReport(page, server.url, login, report.id);

  await composer(page).fill('What worked well this quarter?');
  await sendButton(page).dblclick();
  await waitForMessages(page, 'the first turn to settle', (ms) => ms.length === 2 && allSettled(ms), 30_000);

  await composer(page).fill('Which recommendation comes first?');
  await composer(page).focus();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  await waitForMessages(page, 'the second turn to settle', (ms) => ms.length === 4 && allSettled(ms), 30_000);

  // Two clicks in one task, before React can re-render and disable anything: the store alone must refuse the second.
  await composer(page).fill('What are the open risks?');
  await page.evaluate(() => {
    const button = [...document.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Send');
    button?.click();
    button?.click();
  });
  const shown = await waitForMessages(page, 'the third turn to settle', (ms) => ms.length === 6 && allSettled(ms), 30_000);

  const stored = await api.messages(report.id);
  expect(stored.map((m) => [m.seq, m.role, m.role === 'user' ? m.content : m.status]), 'stored turns').toEqual([
    [1, 'user', 'What worked well this quarter?'],
    [2, 'assistant', 'complete'],
    [3, 'user', 'Which recommendation comes first?'],
    [4, 'assistant', 'complete'],
    [5, 'user', 'What are the open risks?'],
    [6, 'assistant', 'complete'],
  ]);
  expect(shown.map((m) => m.id), 'the page shows the stored messages').toEqual(stored.map((m) => m.id));
});

test('a send whose connection breaks after the server stored it is retried with the same id: one turn', async ({ quickServer: server, newPage }) => {
  const { login, api } = await server.createUser('Flaky Network');
  const report = await api.createReport(sampleReport().title, sampleReport().content);
  const page = await newPage();
  // No events stream in this tab: only its own send can tell it about the turn, so the send must be retried.
  await page.route(`**/api/reports/${report.id}/events*`, (route) => route.abort('connectionrefused'));
  await signIn(page, server.url, login, `/reports/${report.id}`);
  await composer(page).waitFor({ state: 'visible' });
  await expect(composer(page), 'the composer').toBeEnabled({ timeout: 20_000 });

  const bodies: string[] = [];
  let broken = false;
  await page.route(`**/api/reports/${report.id}/messages`, async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    bodies.push(route.request().postData() ?? '');
    if (broken) return route.continue();
    broken = true;
    // Let the request reach the server (which stores the turn and answers it), then drop the connection.
    await route.fetch({ timeout: 30_000 }).catch(() => undefined);
    await route.abort('connectionreset');
  });

  await composer(page).fill('How did the billing queue perform?');
  await sendButton(page).click();
  const shown = await waitForMessages(
    page,
    'the turn to settle after the retry',
    (ms) => ms.length === 2 && ms.every((m) => m.state === 'saved'),
    40_000,
  );

  expect(bodies.length, 'POSTs sent (the first, then one retry)').toBe(2);
  const [first, second] = bodies.map((b) => JSON.parse(b) as { id: string; content: string });
  expect(second, 'the retry sends the same id and content').toEqual(first);
  const stored = await api.messages(report.id);
  expect(stored.length, 'stored messages').toBe(2);
  expect(stored[0]?.id, 'the stored question has the client id').toBe(first?.id);
  expect(shown.map((m) => m.id), 'the page shows the stored messages').toEqual(stored.map((m) => m.id));
});
