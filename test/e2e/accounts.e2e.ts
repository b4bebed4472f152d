import type { Page } from '@playwright/test';
import { composer, openReport, sendButton, signIn, waitForMessages, waitUntilLive } from './support/app-page.js';
import { sampleReport } from './support/api-client.js';
import { seriousA11yViolations } from './support/axe.js';
import { expect, test } from './support/fixtures.js';

const settled = (ms: Array<{ state: string }>) => ms.length > 0 && ms.every((m) => !['sending', 'queued', 'answering'].includes(m.state));
const shareButton = (page: Page) => page.getByRole('button', { name: 'Share', exact: true });
const shareDialog = (page: Page) => page.getByRole('dialog', { name: /^Share “/ });

/** The owner opens the share dialog and adds `email` with `role`; returns the dialog. */
async function share(page: Page, email: string, role: 'Editor: can ask questions' | 'Viewer: can only read') {
  const dialog = shareDialog(page);
  if (!(await dialog.isVisible())) await shareButton(page).click();
  await dialog.getByLabel('Email').fill(email);
  await dialog.getByLabel('Role', { exact: true }).selectOption({ label: role });
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  return dialog;
}

test('the owner shares by email from the report page: the editor chats, the viewer reads only, and a wrong email is explained', async ({
  quickServer: server,
  newPage,
}) => {
  const owner = await server.createUser('Olivia Owner');
  const editor = await server.createUser('Eddie Editor');
  const viewer = await server.createUser('Vera Viewer');
  const { title, content } = sampleReport();
  const report = await owner.api.createReport(title, content);

  const owning = await newPage();
  await openReport(owning, server.url, owner.login, report.id);
  await shareButton(owning).click();
  const dialog = shareDialog(owning);
  await expect(dialog.getByLabel('Email'), 'the dialog puts the focus on its email field').toBeFocused();
  await expect(dialog.getByText('Nobody else yet.')).toBeVisible();

  // Refusals, in the API's words, with the field marked.
  await share(owning, 'nobody-here@example.com', 'Editor: can ask questions');
  await expect(dialog.getByRole('alert').filter({ hasText: 'No user has the email nobody-here@example.com' })).toBeVisible();
  await expect(dialog.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
  await share(owning, owner.email, 'Editor: can ask questions');
  await expect(dialog.getByRole('alert').filter({ hasText: 'You own this report' })).toBeVisible();

  await share(owning, editor.email, 'Editor: can ask questions');
  await expect(dialog.getByRole('status').filter({ hasText: 'Shared with Eddie Editor, who can ask questions.' })).toBeVisible();
  await expect(dialog.getByLabel('Email'), 'the email field is cleared for the next one').toHaveValue('');
  await share(owning, viewer.email.toUpperCase(), 'Viewer: can only read');
  await expect(dialog.getByRole('status').filter({ hasText: 'Shared with Vera Viewer, who can only read.' })).toBeVisible();
  await share(owning, editor.email, 'Viewer: can only read');
  await expect(dialog.getByRole('alert').filter({ hasText: 'is already a member; change their role instead' })).toBeVisible();
  await expect(dialog.getByLabel('Role of Eddie Editor')).toHaveValue('editor');
  await expect(dialog.getByLabel('Role of Vera Viewer')).toHaveValue('viewer');

  expect(await seriousA11yViolations(owning), 'the share dialog: serious or critical accessibility violations').toEqual([]);
  await owning.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(shareButton(owning), 'the focus goes back to the Share button').toBeFocused();

  // The editor, in a browser of their own, finds the report in their list and asks about it.
  const editing = await newPage();
  await signIn(editing, server.url, editor.login);
  await editing.getByRole('link', { name: title }).click();
  await waitUntilLive(editing);
  await expect(editing.getByText('Shared with you by Olivia Owner')).toBeVisible();
  await composer(editing).fill('What is the weekend shift proposal?');
  await sendButton(editing).click();
  await waitForMessages(editing, 'the editor’s answer saved', (ms) => ms.length === 2 && settled(ms), 30_000);

  // The viewer reads the report and that conversation, and has nothing to write with.
  const viewing = await newPage();
  await openReport(viewing, server.url, viewer.login, report.id);
  await waitForMessages(viewing, 'the viewer to see the editor’s turn', (ms) => ms.length === 2 && settled(ms));
  await expect(viewing.getByText('You can read this conversation but not write in it.')).toBeVisible();
  expect(await composer(viewing).count(), 'the viewer’s question inputs').toBe(0);
  expect(await shareButton(viewing).count(), 'Share buttons for a member').toBe(0);
  await expect(viewing.getByText('Shared with you by Olivia Owner')).toBeVisible();
  expect((await owner.api.messages(report.id)).map((m) => m.status), 'the stored turn').toEqual(['complete', 'complete']);
});

test('a role change and a removal reach the member’s open page: editor to viewer at their next send, removal at once', async ({
  quickServer: server,
  newPage,
}) => {
  const owner = await server.createUser('Olivia Owner');
  const member = await server.createUser('Milo Member');
  const report = await owner.api.createReport(sampleReport().title, sampleReport().content);
  const owning = await newPage();
  await openReport(owning, server.url, owner.login, report.id);
  const dialog = await share(owning, member.email, 'Editor: can ask questions');
  await expect(dialog.getByLabel('Role of Milo Member')).toBeVisible();

  const theirs = await newPage();
  await openReport(theirs, server.url, member.login, report.id);
  await expect(composer(theirs)).toBeVisible();

  // Editor → viewer. The API announces no demotion: the page learns it from the refusal of the next send.
  await dialog.getByLabel('Role of Milo Member').selectOption('viewer');
  await expect(dialog.getByRole('status').filter({ hasText: 'Milo Member can now only read.' })).toBeVisible();
  await composer(theirs).fill('Can I still ask?');
  await sendButton(theirs).click();
  await expect(theirs.getByText('You can read this conversation but not write in it.'), 'the composer gives way to the viewer’s line').toBeVisible({ timeout: 10_000 });
  expect(await composer(theirs).count(), 'question inputs after the refusal').toBe(0);
  await expect(theirs.locator('li.message-user[data-state="not-saved"]'), 'the refused question says it was not sent').toContainText('does not allow you to send messages');
  expect(await member.api.messages(report.id), 'nothing was stored').toEqual([]);

  // Removal: their live connection is closed, and the page says the report is gone from them.
  await dialog.getByRole('button', { name: 'Remove Milo Member' }).click();
  const confirm = owning.getByRole('dialog', { name: 'Stop sharing with Milo Member?' });
  await expect(confirm.getByRole('button', { name: 'Cancel' }), 'the safe choice has the focus').toBeFocused();
  await confirm.getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(dialog.getByRole('status').filter({ hasText: 'Milo Member no longer has access.' })).toBeVisible();
  await expect(dialog.getByLabel('Role of Milo Member')).toHaveCount(0);
  await expect(theirs.getByRole('alert').filter({ hasText: 'You no longer have access to this report' })).toBeVisible({ timeout: 10_000 });
  await expect(theirs.getByRole('heading', { name: 'This report could not be opened' })).toBeVisible();
});

test('the account page: profile, an API token created, used outside the browser and revoked, with no accessibility violations', async ({
  quickServer: server,
  newPage,
}) => {
  const user = await server.createUser('Tara Tokens');
  const page = await newPage();
  await signIn(page, server.url, user.login);
  await page.getByRole('link', { name: 'Tara Tokens, your account' }).click();
  await page.waitForURL((url) => url.pathname === '/account');
  await expect(page.getByRole('heading', { name: 'Your account', level: 1 })).toBeVisible();
  await expect(page.locator('.facts')).toContainText(user.email);
  await expect(page.locator('.facts')).toContainText('Email and password (a session in this browser)');
  // The token the admin made with the user is listed, never used.
  await expect(page.getByRole('list', { name: 'Your API tokens, newest first' }).getByRole('listitem')).toHaveCount(1);
  expect(await seriousA11yViolations(page), 'the account page: serious or critical accessibility violations').toEqual([]);

  await page.getByLabel('Token name').fill('nightly export');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = page.getByLabel('New token “nightly export”');
  await expect(secret).toHaveValue(/^rc_[A-Za-z0-9_-]{43}$/);
  const token = await secret.inputValue();
  const row = page.getByRole('listitem').filter({ hasText: 'nightly export' });
  await expect(row).toContainText('Never used');

  const reports = () => fetch(`${server.url}/api/reports`, { headers: { Authorization: `Bearer ${token}` } });
  expect((await reports()).status, 'the new token works').toBe(200);
  // Its use is recorded without holding up the request: reload until the list shows it.
  await expect(async () => {
    await page.reload();
    await expect(page.getByRole('listitem').filter({ hasText: 'nightly export' })).toContainText('Last used just now', { timeout: 1_000 });
  }).toPass({ timeout: 10_000 });
  await expect(page.getByLabel('New token “nightly export”'), 'the token is not shown again').toHaveCount(0);

  await page.getByRole('button', { name: 'Revoke nightly export' }).click();
  await page.getByRole('dialog', { name: 'Revoke “nightly export”?' }).getByRole('button', { name: 'Revoke', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'nightly export was revoked' })).toBeVisible();
  await expect(page.getByRole('listitem').filter({ hasText: 'nightly export' })).toHaveCount(0);
  expect((await reports()).status, 'the revoked token').toBe(401);
});

test('a password change signs out the same person’s other browser, whose next request shows the sign-in page', async ({
  quickServer: server,
  newPage,
}) => {
  const user = await server.createUser('Pat Password');
  const here = await newPage();
  await signIn(here, server.url, user.login, '/account');
  const elsewhere = await newPage();
  await signIn(elsewhere, server.url, user.login, '/account');

  const form = here.getByRole('region', { name: 'Change your password' });
  await form.getByLabel('Current password').fill('not the password');
  await form.getByLabel('New password', { exact: true }).fill('a brand new password');
  await form.getByLabel('New password again').fill('a brand new password');
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.getByRole('alert')).toHaveText('The current password is not right.');
  await expect(form.getByLabel('Current password')).toBeFocused();

  await form.getByLabel('Current password').fill(user.password);
  await form.getByLabel('New password again').fill('a brand new passwort');
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.getByRole('alert')).toHaveText('The two passwords are not the same.');

  await form.getByLabel('New password again').fill('a brand new password');
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.getByRole('status')).toHaveText('Your password was changed. Your other sessions were signed out; this one stays signed in.');

  // The other browser's next request is refused: it shows the sign-in page, and says why.
  await elsewhere.getByRole('link', { name: 'report-chat' }).click();
  await elsewhere.waitForURL((url) => url.pathname === '/sign-in');
  await expect(elsewhere.getByRole('alert')).toHaveText('Your session has ended. Sign in again.');
  // This one is still signed in; the new password signs in, the old one no longer does.
  await here.getByRole('link', { name: 'report-chat' }).click();
  await expect(here.getByRole('heading', { name: 'Reports', level: 1 })).toBeVisible();
  await elsewhere.getByLabel('Email').fill(user.email);
  await elsewhere.getByLabel('Password').fill(user.password);
  await elsewhere.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(elsewhere.getByRole('alert')).toHaveText('Wrong email or password.');
  await elsewhere.getByLabel('Password').fill('a brand new password');
  await elsewhere.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(elsewhere.getByRole('heading', { name: 'Reports', level: 1 })).toBeVisible();
});
