import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestApp, type TestApp } from './support/test-app.js';

let db: TestDatabase;
let t: TestApp;
beforeAll(async () => {
  db = await createTestDatabase();
  t = await createTestApp(db);
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

async function scrape(): Promise<string> {
  const res = await t.request('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
}

const value = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

describe('GET /metrics', () => {
  it('shows the turn, request and latency series moving as turns complete', async () => {
    const before = await scrape();
    const { token } = await t.createUser();
    const reportId = await t.createReport(token);
    for (let i = 0; i < 3; i++) {
      const res = await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { content: `q${i}` }, headers: { accept: 'application/json' } });
      expect(res.status).toBe(201);
    }
    await t.request(`/api/reports/${reportId}/messages`, { token: 'rc_wrong' });
    const after = await scrape();

    const complete = 'report_chat_turns_total{status="complete",saved="true"}';
    expect(value(after, complete) - value(before, complete)).toBe(3);
    expect(value(after, 'report_chat_time_to_first_token_seconds_count') - value(before, 'report_chat_time_to_first_token_seconds_count')).toBe(3);
    expect(value(after, 'report_chat_turn_duration_seconds_count') - value(before, 'report_chat_turn_duration_seconds_count')).toBe(3);
    expect(value(after, 'report_chat_http_requests_total{method="POST",route="/api/reports/:reportId/messages",status="201"}')).toBe(3);
    // Refused before a route matched: labelled with the pattern of the middleware that answered.
    expect(value(after, 'report_chat_http_requests_total{method="GET",route="/api/reports/*",status="401"}')).toBe(1);
    expect(after).toMatch(/^report_chat_open_event_streams 0$/m);
    expect(after).toMatch(/^report_chat_queued_answers 0$/m);
    expect(after).toMatch(/^report_chat_sweeps_total\{result="ok"\} \d+$/m);
    // No ids in labels: the route pattern, never the path.
    expect(after).not.toContain(reportId);
  });
});
