import { signIn, waitUntilLive } from './support/app-page.js';
import { assert, assertEqual, e2e, eventually } from './support/harness.js';

const REPORT = `# Warehouse Robotics Pilot: Final Report

## Summary

The pilot cut picking time by 23% in aisle 4.

## Recommendations

1. Extend the pilot to aisles 5 and 6.
2. Train two more technicians.
`;

e2e('sign-in checks the token; a report added from a .md file takes its first heading as title and opens with its contents', async (ctx) => {
  const server = await ctx.sharedServer('quick');
  const { token, api } = await server.createUser('New Reader');
  const page = await ctx.newPage({ width: 1280, height: 800 });

  await page.goto(`${server.url}/`);
  await page.waitForURL((url) => url.pathname === '/sign-in');
  await page.getByLabel('API token').fill(`rc_${'x'.repeat(43)}`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor({ state: 'visible' });
  await signIn(page, server.url, token, '/');
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
});
