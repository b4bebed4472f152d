import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import { composer, lastAnswer, openReport, sendButton, signIn, waitForMessages } from './support/app-page.js';
import { sampleReport } from './support/api-client.js';
import { expect, test } from './support/fixtures.js';

const settled = (ms: Array<{ state: string }>) => ms.every((m) => !['sending', 'queued', 'answering'].includes(m.state));

async function clearThroughDialog(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Clear', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Clear this conversation?' });
  await dialog.waitFor({ state: 'visible' });
  await dialog.getByRole('button', { name: 'Clear conversation' }).click();
}

async function downloadText(page: Page, button: string): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button, exact: true }).click()]);
  const path = await download.path();
  return { name: download.suggestedFilename(), text: await readFile(path, 'utf8') };
}

test('export as Markdown and JSON; clear is explained when refused (409 while answering, 412 when stale) and reaches other tabs', async ({
  slowServer: server,
  newPage,
}) => {
  const { login, token, api } = await server.createUser('Owner Clearing');
  const report = await api.createReport(sampleReport().title, sampleReport().content);
  const page = await newPage();
  await openReport(page, server.url, login, report.id);

  // 409: an answer is still being written.
  await composer(page).fill('What changed in response times?');
  await sendButton(page).click();
  await waitForMessages(page, 'the answer to stream', (ms) => lastAnswer(ms)?.state === 'answering');
  await clearThroughDialog(page);
  await page.getByRole('alert').filter({ hasText: 'an answer is still being written' }).waitFor({ state: 'visible' });
  await waitForMessages(page, 'the answer to complete', (ms) => ms.length === 2 && settled(ms), 30_000);

  const md = await downloadText(page, 'Markdown');
  expect(md.name, 'the Markdown export’s file name').toMatch(/\.md$/);
  expect(md.text, 'the Markdown export').toContain('What changed in response times?');
  const json = await downloadText(page, 'JSON');
  expect(json.name, 'the JSON export’s file name').toMatch(/\.json$/);
  expect((JSON.parse(json.text) as { messages: unknown[] }).messages.length, 'messages in the JSON export').toBe(2);

  // 412: this tab's view is stale (its live updates are cut) when another client adds a turn.
  const stale = await newPage();
  await stale.route(`**/api/reports/${report.id}/events*`, (route) => route.abort('connectionrefused'));
  await signIn(stale, server.url, login, `/reports/${report.id}`);
  await waitForMessages(stale, 'the stale tab to load the conversation', (ms) => ms.length === 2);
  const res = await fetch(`${server.url}/api/reports/${report.id}/messages`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ id: crypto.randomUUID(), content: 'A question from another client' }),
  });
  expect(res.status, 'the other client’s send').toBe(201);
  await clearThroughDialog(stale);
  await stale.getByRole('alert').filter({ hasText: 'changed in another tab or window' }).waitFor({ state: 'visible' });
  expect((await api.messages(report.id)).length, 'stored messages: nothing was cleared').toBe(4);
  // After the refusal the tab shows the newest messages, and clearing again works.
  await waitForMessages(stale, 'the stale tab to show the other client’s turn', (ms) => ms.length === 4);

  await clearThroughDialog(stale);
  await stale.getByRole('status').filter({ hasText: 'The conversation was cleared.' }).waitFor({ state: 'visible' });
  await expect.poll(async () => (await api.messages(report.id)).length, { message: 'the conversation to be empty in the store', timeout: 20_000 }).toBe(0);
  // The first tab follows live: the clear reaches it without a reload.
  await waitForMessages(page, 'the other tab to show the cleared conversation', (ms) => ms.length === 0);
  await waitForMessages(stale, 'the clearing tab to show an empty conversation', (ms) => ms.length === 0);
});
