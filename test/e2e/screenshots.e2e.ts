import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { composer, openReport, sendButton, signIn, waitForMessages } from './support/app-page.js';
import { sampleReport } from './support/api-client.js';
import { test } from './support/fixtures.js';

const OUT = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const settled = (ms: Array<{ state: string }>) => ms.every((m) => !['sending', 'queued', 'answering'].includes(m.state));

test('screenshots of the report page with a real conversation, at desktop and phone widths', async ({ quickServer: server, newPage }) => {
  test.setTimeout(90_000);
  mkdirSync(OUT, { recursive: true });
  const { login, api } = await server.createUser('Maya Chen');
  const { title, content } = sampleReport();
  const report = await api.createReport(title, content);

  const desktop = await newPage({ width: 1440, height: 900 });
  await openReport(desktop, server.url, login, report.id);
  // The first question from the suggestions, the second typed.
  await desktop.locator('.suggestion').first().click();
  await waitForMessages(desktop, 'the first answer', (ms) => ms.length === 2 && settled(ms), 30_000);
  await composer(desktop).fill('Why do escalated tickets wait so long, and what would fix it?');
  await sendButton(desktop).click();
  await waitForMessages(desktop, 'the second answer', (ms) => ms.length === 4 && settled(ms), 30_000);
  await desktop.mouse.move(0, 0);
  await desktop.screenshot({ path: `${OUT}report-desktop.png`, animations: 'disabled', caret: 'hide' });
  // The same page for a system that asks for the dark scheme.
  await desktop.emulateMedia({ colorScheme: 'dark' });
  await desktop.screenshot({ path: `${OUT}report-desktop-dark.png`, animations: 'disabled', caret: 'hide' });
  await desktop.emulateMedia({ colorScheme: 'light' });

  const phone = await newPage({ width: 390, height: 844 });
  await openReport(phone, server.url, login, report.id);
  await phone.screenshot({ path: `${OUT}report-phone-reading.png`, animations: 'disabled', caret: 'hide' });
  await phone.getByRole('button', { name: 'Ask about this report' }).click();
  await waitForMessages(phone, 'the conversation in the drawer', (ms) => ms.length === 4 && settled(ms));
  // As after asking: the last question at the top, its answer below.
  await phone.locator('li.message-user').last().evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await phone.screenshot({ path: `${OUT}report-phone.png`, animations: 'disabled', caret: 'hide' });
});

test('screenshots of sharing, the account page and the admin page: account at desktop width, the share dialog on a phone, the admin page in the dark scheme', async ({
  quickServer: server,
  newPage,
}) => {
  mkdirSync(OUT, { recursive: true });
  // Readable addresses for the pictures, unique on this server (the first test's Maya has a generated one).
  const maya = await server.createUser('Maya Chen', { email: 'maya.chen@example.com' });
  const tom = await server.createUser('Tom Okafor', { email: 'tom.okafor@example.com' });
  const priya = await server.createUser('Priya Raman', { email: 'priya.raman@example.com' });
  const { title, content } = sampleReport();
  const report = await maya.api.createReport(title, content);
  await maya.api.share(report.id, tom.userId, 'editor');
  await maya.api.share(report.id, priya.userId, 'viewer');

  const desktop = await newPage({ width: 1440, height: 900 });
  await signIn(desktop, server.url, maya.login, '/account');
  await desktop.getByLabel('Token name').fill('nightly export');
  await desktop.getByRole('button', { name: 'Create token' }).click();
  await desktop.getByLabel('New token “nightly export”').waitFor();
  await desktop.getByRole('heading', { name: 'Your account', level: 1 }).click(); // the focus off the button
  await desktop.screenshot({ path: `${OUT}account-desktop.png`, animations: 'disabled', caret: 'hide', fullPage: true });

  const phone = await newPage({ width: 390, height: 844 });
  await openReport(phone, server.url, maya.login, report.id);
  await phone.getByRole('button', { name: 'Share', exact: true }).click();
  await phone.getByLabel('Role of Priya Raman').waitFor();
  await phone.screenshot({ path: `${OUT}share-phone.png`, animations: 'disabled', caret: 'hide' });

  const admin = await newPage({ width: 1280, height: 900 });
  await admin.emulateMedia({ colorScheme: 'dark' });
  await admin.goto(await server.adminLink());
  await admin.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
  const rows = admin.getByRole('list', { name: 'Users, newest first' }).getByRole('listitem');
  await rows.filter({ hasText: tom.email }).getByRole('button', { name: 'New invite link for Tom Okafor' }).click();
  await rows.filter({ hasText: priya.email }).getByRole('button', { name: 'Disable Priya Raman' }).click();
  await admin.getByRole('dialog').getByRole('button', { name: 'Disable', exact: true }).click();
  await rows.filter({ hasText: priya.email }).locator('.pill').waitFor();
  await admin.mouse.move(0, 0);
  await admin.screenshot({ path: `${OUT}admin-dark.png`, animations: 'disabled', caret: 'hide', fullPage: true });
});
