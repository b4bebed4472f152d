import { expect, test } from './support/fixtures.js';

// The generated document's tags, and operations (their summaries) of the first, open at the start, and of another.
const TAGS = ['Accounts', 'Reports', 'Members', 'Conversation', 'Service'];
const ACCOUNTS = ['Sign in', 'Create a user', 'Who am I', 'Create an API token', 'Revoke an API token'];
const CONVERSATION = ['Send a message and get the answer', 'Read the conversation', 'Live updates', 'Stop an answer'];

test('api-docs: /api/docs renders the interactive reference of the generated document, loading nothing from elsewhere', async ({ quickServer: server, newPage }) => {
  const page = await newPage();
  const origin = new URL(server.url).origin;
  const elsewhere: string[] = [];
  const refused: string[] = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.protocol.startsWith('http') && url.origin !== origin) elsewhere.push(req.url());
  });
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) refused.push(msg.text());
  });

  const res = await page.goto(`${server.url}/api/docs`);
  expect(res?.status(), 'the reference page answers').toBe(200);
  const sidebar = page.locator('aside, nav').first();
  for (const name of [...TAGS, ...ACCOUNTS]) await sidebar.getByText(name, { exact: true }).first().waitFor({ state: 'visible', timeout: 20_000 });
  await sidebar.getByText('Conversation', { exact: true }).first().click();
  for (const name of CONVERSATION) await sidebar.getByText(name, { exact: true }).first().waitFor({ state: 'visible', timeout: 10_000 });
  expect(elsewhere, 'what the page loaded from another origin').toEqual([]);
  expect(refused, 'what the policy refused').toEqual([]);
});
