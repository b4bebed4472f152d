import { signIn, waitUntilLive } from './support/app-page.js';
import { assert, assertEqual, e2e, eventually } from './support/harness.js';

const REPORT = `# Warehouse Robotics Pilot: Final Report

## Summary

The pilot cut picking time by 23% in aisle 4.

## Recommendations

1. Extend the pilot to aisles 5 and 6.
2. Train two more technicians.
`;

e2e('sign-in with email and password (wrong pair refused), sign-out ends the session; a report added from a .md file takes its first heading as title and opens with its contents', async (ctx) => {
  const server = await ctx.sharedServer('quick');
  const { login, api } = await server.createUser('New Reader');
  const page = await ctx.newPage({ width: 1280, height: 800 });

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
  assert(session?.httpOnly, 'the session is an HttpOnly cookie');
  assertEqual(await page.evaluate(() => sessionStorage.length), 0, 'no token kept in the tab');

  // Signing out ends the session on the server: a reload stays signed out.
  const logout = page.waitForRequest((req) => req.url().endsWith('/api/auth/logout') && req.method() === 'POST');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await logout;
  await page.waitForURL((url) => url.pathname === '/sign-in');
  await page.goto(`${server.url}/`);
  await page.waitForURL((url) => url.pathname === '/sign-in');
  assert(!(await page.context().cookies(server.url)).some((c) => c.name === 'rc_session'), 'the cookie is gone');
  await signIn(page, server.url, login, '/');
  await page.getByText('No reports yet').waitFor({ state: 'visible' });

  await page.getByRole('button', { name: 'Add report' }).click();
  await page.getByLabel('or upload a .md file').setInputFiles({ name: 'pilot.md', mimeType: 'text/markdown', buffer: Buffer.from(REPORT) });
  await eventually('the title to default to the first heading', async () =>
    (await page.getByLabel('Title').getAttribute('placeholder')) === 'Warehouse Robotics Pilot: Final Report' ? true : undefined,
  );
  await page.getByRole('button', { name: 'Add report' }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/reports/'));
  await waitUntilLive(page);

  await page.getByRole('heading', { level: 1, name: 'Warehouse Robotics Pilot: Final Report' }).waitFor({ state: 'visible' });
  const contents = page.getByRole('navigation', { name: 'Table of contents' });
  await contents.getByText('Contents').click(); // a closed disclosure below the widest layout
  assertEqual(await contents.getByRole('link').allTextContents(), ['Summary', 'Recommendations'], 'the table of contents');
  const suggestions = await page.locator('.suggestion').allTextContents();
  assert(suggestions.some((q) => q.includes('Recommendations')), `a suggested question about a heading (${suggestions.join(' | ')})`);

  await page.getByRole('link', { name: 'Reports', exact: true }).click();
  const row = page.locator('.report-row').first();
  await row.waitFor({ state: 'visible' });
  assert((await row.textContent())?.includes('Warehouse Robotics Pilot: Final Report'), 'the list shows the new report');
  assert((await row.textContent())?.includes('0 messages'), 'the list shows its message count');
  const { reports } = (await (await fetch(`${server.url}/api/reports`, { headers: { Authorization: `Bearer ${api.token}` } })).json()) as {
    reports: Array<{ title: string }>;
  };
  assertEqual(reports.map((r) => r.title), ['Warehouse Robotics Pilot: Final Report'], 'stored reports');

  // The session ends behind the page's back: the next call answers 401 and the page goes back to sign-in.
  await page.context().clearCookies();
  await row.getByRole('link').click();
  await page.waitForURL((url) => url.pathname === '/sign-in');
  await page.getByRole('alert').filter({ hasText: 'Your session has ended. Sign in again.' }).waitFor({ state: 'visible' });
  assertEqual(new URL(page.url()).searchParams.get('next')?.startsWith('/reports/'), true, 'sign-in leads back to the report');
});

e2e('too many wrong passwords: the sign-in page shows the server’s message for 429', async (ctx) => {
  const server = await ctx.sharedServer('quick');
  const { login } = await server.createUser('Locked Out');
  const page = await ctx.newPage({ width: 1280, height: 800 });
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
  const text = await alert.textContent();
  assert(text?.includes('Too many failed sign-ins'), `the server's 429 message is shown (${text})`);
});

e2e('sign-in with an API token instead: a wrong one is refused, a good one is kept in the tab and forgotten at sign-out', async (ctx) => {
  const server = await ctx.sharedServer('quick');
  const { token } = await server.createUser('Token Reader');
  const page = await ctx.newPage({ width: 1280, height: 800 });

  await page.goto(`${server.url}/sign-in`);
  await page.getByRole('button', { name: 'Use an API token instead' }).click();
  await page.getByLabel('API token').fill(`rc_${'x'.repeat(43)}`);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor({ state: 'visible' });
  await signIn(page, server.url, { token }, '/');
  await page.getByText('No reports yet').waitFor({ state: 'visible' });
  assert(!(await page.context().cookies(server.url)).some((c) => c.name === 'rc_session'), 'no session cookie with a token');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((url) => url.pathname === '/sign-in');
  assertEqual(await page.evaluate(() => sessionStorage.length), 0, 'the token is forgotten');
  await page.goto(`${server.url}/`);
  await page.waitForURL((url) => url.pathname === '/sign-in');
});
