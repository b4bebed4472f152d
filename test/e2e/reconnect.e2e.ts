import { openReport, waitForMessages } from './support/app-page.js';
import { contentHash, sampleReport } from './support/api-client.js';
import { expect, test } from './support/fixtures.js';

test('when the events stream drops, the tab reconnects with Last-Event-ID and catches up on what it missed', async ({ quickServer: server, newPage }) => {
  const { login, token, api } = await server.createUser('Reconnector');
  const report = await api.createReport(sampleReport().title, sampleReport().content);
  const page = await newPage();

  const seen: Array<{ url: string; lastEventId: string | undefined }> = [];
  let historyVersion: number | undefined;
  page.on('response', async (res) => {
    if (/\/messages\?limit=50$/.test(res.url())) historyVersion = ((await res.json()) as { version: number }).version;
  });
  await page.route(`**/api/reports/${report.id}/events*`, async (route) => {
    const headers = await route.request().allHeaders();
    seen.push({ url: route.request().url(), lastEventId: headers['last-event-id'] });
    if (seen.length === 1) {
      // The first connection ends at once, as a dropped connection would.
      return route.fulfill({ status: 200, headers: { 'Content-Type': 'text/event-stream' }, body: ': connected\n\n' });
    }
    if (seen.length === 2) {
      // While the tab is away, another client completes a whole turn.
      const res = await fetch(`${server.url}/api/reports/${report.id}/messages`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ id: crypto.randomUUID(), content: 'Asked while the tab was disconnected' }),
      });
      expect(res.status, 'the other client’s send').toBe(201);
    }
    return route.continue();
  });

  await openReport(page, server.url, login, report.id);
  const shown = await waitForMessages(page, 'the missed turn to appear', (ms) => ms.length === 2 && ms[1]?.state === 'saved', 20_000);

  expect(seen.length, 'events connections: the tab reconnected').toBeGreaterThanOrEqual(2);
  expect(seen[0]?.lastEventId, 'the first connection resumes from the history’s version').toBe(String(historyVersion));
  expect(seen[1]?.lastEventId, 'the reconnection’s Last-Event-ID').toBe(String(historyVersion));
  expect(seen[1]?.url, 'the reconnection resumes by Last-Event-ID alone').not.toContain('after=');
  const stored = await api.messages(report.id);
  expect(shown.map((m) => [m.id, m.hash]), 'the page shows the stored turn').toEqual(stored.map((m) => [m.id, contentHash(m.content)]));
});
