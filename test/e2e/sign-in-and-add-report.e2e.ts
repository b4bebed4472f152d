import { signIn, waitUntilLive } from './support/app-page.js';
import { eventually } from './support/eventually.js';
import { expect, test } from './support/fixtures.js';

const REPORT = `# Warehouse Robotics Pilot: Final Report

## Summary

The pilot cut picking time by 23% in aisle 4.

## Recommendations

1. Extend the pilot to aisles 5 and 6.
2. Train two more technicians.
`;

test('sign-in with email and password (wrong pair refused), sign-out ends the session; a report added from a .md file takes its first heading as title and opens with its contents', async ({
  quickServer: server,
  newPage,
}) => {
  const { login, api } = await server.createUser('New Reader');
  const page = await newPage({ width: 1280, height: 800 });

  await page.goto(`${server.url}/`);
  await page.waitForURL((url) => url.pathname === '/sign-in');
  await page.getByLabel('Email').fill(login.email);
  await page.getByLabel('Password').fill(`${login.password}-wrong`);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong email or password.' }).waitFor({ state: 'visible' });
  await signIn(page, server.url, login, '/');
  await page.getByText('No reports yet').waitFor({ state: 'visible' });
  const cookies = await page.context().cookies(server.url);
  const session = cookies.find((c) => c.name === 'rc_session');
  expect(session?.httpOnly, 'the session is an HttpOnly cookie').toBe(true);
  expect(await page.evaluate(() => sessionStorage.length), 'what the tab keeps: no token').toBe(0);

  // Signing out ends the session on the server: a reload stays signed out.
  const logout = page.waitForRequest((req) => req.url().endsWith('/api/auth/logout') && req.method() === 'POST');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await logout;
  await page.waitForURL((url) => url.pathname === '/sign-in');
  await page.goto(`${server.url}/`);
  await page.waitForURL((url) => url.pathname === '/sign-in');
  expect((await page.context().cookies(server.url)).map((c) => c.name), 'cookies: the session’s is gone').not.toContain('rc_session');
  await signIn(page, server.url, login, '/');
  await page.getByText('No reports yet').waitFor({ state: 'visible' });

  await page.getByRole('button', { name: 'Add report' }).click();
  await page.getByLabel('or upload a .md file').setInputFiles({ name: 'pilot.md', mimeType: 'text/markdown', buffer: Buffer.from(REPORT) });
  await expect(page.getByLabel('Title'), 'the title defaults to the first heading').toHaveAttribute('placeholder', 'Warehouse Robotics Pilot: Final Report', {
    timeout: 20_000,
  });
  await page.getByRole('button', { name: 'Add report' }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/reports/'));
  await waitUntilLive(page);

  await page.getByRole('heading', { level: 1, name: 'Warehouse Robotics Pilot: Final Report' }).waitFor({ state: 'visible' });
  const contents = page.getByRole('navigation', { name: 'Table of contents' });
  await contents.getByText('Contents').click(); // a closed disclosure below the widest layout
  expect(await contents.getByRole('link').allTextContents(), 'the table of contents').toEqual(['Summary', 'Recommendations']);
  const suggestions = await page.locator('.suggestion').allTextContents();
  expect(suggestions.some((q) => q.includes('Recommendations')), `a suggested question about a heading (${suggestions.join(' | ')})`).toBe(true);

  await page.getByRole('link', { name: 'Reports', exact: true }).click();
  const row = page.locator('.report-row').first();
  await row.waitFor({ state: 'visible' });
  expect(await row.textContent(), 'the list shows the new report').toContain('Warehouse Robotics Pilot: Final Report');
  expect(await row.textContent(), 'the list shows its message count').toContain('0 messages');
  const { reports } = (await (await fetch(`${server.url}/api/reports`, { headers: { Authorization: `Bearer ${api.token}` } })).json()) as {
    reports: Array<{ title: string }>;
  };
  expect(reports.map((r) => r.title), 'stored reports').toEqual(['Warehouse Robotics Pilot: Final Report']);

  // The session ends behind the page's back: the next call answers 401 and the page goes back to sign-in.
  await page.context().clearCookies();
  await row.getByRole('link').click();
  await page.waitForURL((url) => url.pathname === '/sign-in');
  await page.getByRole('alert').filter({ hasText: 'Your session has ended. Sign in again.' }).waitFor({ state: 'visible' });
  expect(new URL(page.url()).searchParams.get('next'), 'where sign-in leads back: the report').toMatch(/^\/reports\//);
});

test('too many wrong passwords: the sign-in page shows the server’s message for 429', async ({ quickServer: server, newPage }) => {
  const { login } = await server.createUser('Locked Out');
  const page = await newPage({ width: 1280, height: 800 });
  await page.goto(`${server.url}/sign-in`);
  await page.getByLabel('Email').fill(login.email);
  await page.getByLabel('Password').fill('not-the-password');
  const alert = page.getByRole('alert');
  await eventually('the sign-in to be limited', async () => {
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor({ state: 'visible' }); // not busy any more
    const text = await alert.textContent();
    return text && text !== 'Wrong email or password.' ? text : undefined;
  }, 20_000, 50);
  expect(await alert.textContent(), 'the server’s 429 message is shown').toContain('Too many failed sign-ins');
});

test('sign-in with an API token instead: a wrong one is refused, a good one is kept in the tab and forgotten at sign-out', async ({
  quickServer: server,
  newPage,
}) => {
  const { token } = await server.createUser('Token Reader');
  const page = await newPage({ width: 1280, height: 800 });

  await page.goto(`${server.url}/sign-in`);
  await page.getByRole('button', { name: 'Use an API token instead' }).click();
  await page.getByLabel('API token').fill(`rc_${'x'.repeat(43)}`);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor({ state: 'visible' });
  await signIn(page, server.url, { token }, '/');
  await page.getByText('No reports yet').waitFor({ state: 'visible' });
  expect((await page.context().cookies(server.url)).map((c) => c.name), 'cookies: no session’s with a token').not.toContain('rc_session');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((url) => url.pathname === '/sign-in');
  expect(await page.evaluate(() => sessionStorage.length), 'what the tab keeps: the token is forgotten').toBe(0);
  await page.goto(`${server.url}/`);
  await page.waitForURL((url) => url.pathname === '/sign-in');
});
