import type { Page } from '@playwright/test';
import { signIn } from './support/app-page.js';
import { seriousA11yViolations } from './support/axe.js';
import { expect, test } from './support/fixtures.js';
import { ADMIN_TOKEN } from './support/servers.js';

const unique = (name: string) => `${name}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`;

async function adminSignIn(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/admin`);
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
}

async function createUser(page: Page, email: string, name: string, how: { password: string } | 'invite'): Promise<void> {
  const form = page.getByRole('region', { name: 'Create a user' });
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Name (optional)').fill(name);
  if (how === 'invite') {
    await form.getByLabel('Send them an invite link: they choose their password').check();
  } else {
    await form.getByLabel('Set an initial password').check();
    await form.getByLabel('Initial password', { exact: true }).fill(how.password);
  }
  await form.getByRole('button', { name: 'Create user' }).click();
  await expect(form.getByRole('status').filter({ hasText: `${email} was created` })).toBeVisible();
}

const userRow = (page: Page, email: string) => page.getByRole('list', { name: 'Users, newest first' }).getByRole('listitem').filter({ hasText: email });

test('the administrator signs in with the admin token and creates a user with a password, who signs in; disabling ends their session, enabling lets them back', async ({
  quickServer: server,
  newPage,
}) => {
  const admin = await newPage();
  await admin.goto(`${server.url}/admin`);
  await expect(admin.getByLabel('Admin token'), 'a signed-out visitor gets the admin sign-in, not the people’s').toBeFocused();
  expect(await seriousA11yViolations(admin), 'the admin sign-in: serious or critical accessibility violations').toEqual([]);
  await admin.getByLabel('Admin token').fill('not-the-admin-token-at-all');
  await admin.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(admin.getByRole('alert')).toHaveText('That is not the admin token.');
  await adminSignIn(admin, server.url);

  const email = unique('nora');
  await createUser(admin, email, 'Nora New', { password: 'nora-first-password' });
  const row = userRow(admin, email);
  await expect(row).toContainText('Nora New');
  await expect(row).toContainText('Has a password');
  await expect(row).toContainText('Created just now');
  expect(await seriousA11yViolations(admin), 'the admin page: serious or critical accessibility violations').toEqual([]);
  await admin.emulateMedia({ colorScheme: 'dark' });
  expect(await seriousA11yViolations(admin), 'the admin page, dark: serious or critical accessibility violations').toEqual([]);
  await admin.emulateMedia({ colorScheme: 'light' });

  const nora = await newPage();
  await signIn(nora, server.url, { email, password: 'nora-first-password' }, '/account');
  await expect(nora.getByRole('link', { name: 'Nora New, your account' })).toBeVisible();

  await row.getByRole('button', { name: 'Disable Nora New' }).click();
  const confirm = admin.getByRole('dialog', { name: 'Disable Nora New?' });
  await expect(confirm.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await confirm.getByRole('button', { name: 'Disable', exact: true }).click();
  await expect(row.locator('.pill')).toHaveText('Disabled');
  await expect(admin.getByRole('status').filter({ hasText: 'Nora New is disabled.' })).toBeVisible();
  await expect(row.getByRole('button', { name: 'Enable Nora New' }), 'the focus comes back to the row’s button').toBeFocused();

  await nora.getByRole('link', { name: 'report-chat' }).click();
  await nora.waitForURL((url) => url.pathname === '/sign-in');
  await nora.getByLabel('Email').fill(email);
  await nora.getByLabel('Password').fill('nora-first-password');
  await nora.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(nora.getByRole('alert')).toHaveText('This account has been disabled. Ask your administrator.');

  await row.getByRole('button', { name: 'Enable Nora New' }).click();
  await admin.getByRole('dialog', { name: 'Enable Nora New?' }).getByRole('button', { name: 'Enable', exact: true }).click();
  await expect(row.locator('.pill')).toHaveCount(0);
  await nora.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(nora.getByRole('heading', { name: 'Reports', level: 1 })).toBeVisible();

  // Signing out of the admin page ends its session: a reload shows the admin sign-in again.
  await admin.getByRole('button', { name: 'Sign out' }).click();
  await expect(admin.getByLabel('Admin token')).toBeVisible();
  await admin.reload();
  await expect(admin.getByLabel('Admin token')).toBeVisible();
});

test('an invited user opens the link, chooses a password and lands signed in; the link works once', async ({ quickServer: server, newPage }) => {
  const admin = await newPage();
  await adminSignIn(admin, server.url);
  const email = unique('ivan');
  await createUser(admin, email, 'Ivan Invited', 'invite');
  const link = await admin.getByLabel('Invite link', { exact: true }).inputValue();
  expect(link).toMatch(new RegExp(`^${server.url}/invite#[A-Za-z0-9_-]+$`));
  await expect(userRow(admin, email)).toContainText('No password yet');

  const ivan = await newPage();
  await ivan.goto(link);
  await expect(ivan.getByRole('heading', { name: 'Welcome to report-chat' })).toBeVisible();
  await expect(ivan.getByLabel('Password', { exact: true })).toBeFocused();
  expect(await seriousA11yViolations(ivan), 'the invite page: serious or critical accessibility violations').toEqual([]);
  await ivan.getByLabel('Password', { exact: true }).fill('short');
  await ivan.getByRole('button', { name: 'Set password and sign in' }).click();
  await expect(ivan.getByRole('alert')).toHaveText('The new password needs at least 8 characters.');
  await ivan.getByLabel('Password', { exact: true }).fill('ivan chose this one');
  await ivan.getByLabel('Password again').fill('ivan chose this on');
  await ivan.getByRole('button', { name: 'Set password and sign in' }).click();
  await expect(ivan.getByRole('alert')).toHaveText('The two passwords are not the same.');
  await expect(ivan.getByLabel('Password again')).toBeFocused();
  await ivan.getByLabel('Password again').fill('ivan chose this one');
  await ivan.getByRole('button', { name: 'Set password and sign in' }).click();
  await ivan.waitForURL((url) => url.pathname === '/');
  await expect(ivan.getByRole('heading', { name: 'Reports', level: 1 })).toBeVisible();
  await expect(ivan.getByRole('link', { name: 'Ivan Invited, your account' })).toBeVisible();

  // Used: the same link, in another browser, explains itself; the chosen password signs in.
  const again = await newPage();
  await again.goto(link);
  await again.getByLabel('Password', { exact: true }).fill('someone else entirely');
  await again.getByLabel('Password again').fill('someone else entirely');
  await again.getByRole('button', { name: 'Set password and sign in' }).click();
  await expect(again.getByRole('alert')).toContainText('This invite link is not valid: it was used already, or it expired.');
  await signIn(again, server.url, { email, password: 'ivan chose this one' });

  // A new link for an existing user, from their row.
  await admin.reload();
  await userRow(admin, email).getByRole('button', { name: 'New invite link for Ivan Invited' }).click();
  await expect(userRow(admin, email).getByLabel('Invite link', { exact: true })).toHaveValue(/\/invite#[A-Za-z0-9_-]+$/);
});

test('a one-time admin link signs in by itself, leaves no code in the address, and works once', async ({ quickServer: server, newPage }) => {
  const link = await server.adminLink();
  const admin = await newPage();
  await admin.goto(link);
  await expect(admin.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
  expect(new URL(admin.url()).hash, 'the code left the address bar').toBe('');

  const other = await newPage();
  await other.goto(link);
  await expect(other.getByRole('alert')).toContainText('This sign-in link is not valid: it was used already, or it expired');
  await expect(other.getByLabel('Admin token')).toBeVisible();
});

test('the sign-in page says where the demo account’s password is, and has no accessibility violations', async ({ quickServer: server, newPage }) => {
  const page = await newPage();
  await page.goto(`${server.url}/sign-in`);
  await expect(page.getByText('demo@report-chat.local')).toBeVisible();
  await expect(page.locator('.field-hint')).toContainText('keeps the password in demo-password in the data directory');
  expect(await seriousA11yViolations(page), 'the sign-in page: serious or critical accessibility violations').toEqual([]);
});
