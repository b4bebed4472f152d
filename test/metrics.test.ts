import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI } from './fakes/fake-openai-server.js';
import type { FakeProviderServer } from './fakes/fake-behavior.js';
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

async function scrape(app = t): Promise<string> {
  const res = await app.request('/metrics');
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

describe('model token counters', () => {
  let fake: FakeProviderServer;
  let model: TestApp;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    model = await createTestApp(db, { LLM_PROVIDER: 'openai-compatible', LLM_BASE_URL: fake.baseUrl, LLM_MODEL: 'fake-model', LLM_API_KEY: 'sk-test' });
  });
  afterAll(async () => {
    await model?.close();
    await fake?.close();
  });

  it('count the input and output tokens the provider reported, as stored with each answer', async () => {
    const before = await scrape(model);
    const { token } = await model.createUser();
    const reportId = await model.createReport(token);
    for (let i = 0; i < 2; i++) {
      const res = await model.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { content: `q${i}` }, headers: { accept: 'application/json' } });
      expect(res.status).toBe(201);
    }
    const after = await scrape(model);
    const [stored] = await db.sql<{ input: number; output: number }[]>`
      SELECT sum(m.input_tokens)::int AS input, sum(m.output_tokens)::int AS output
      FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.report_id = ${reportId}`;
    expect(stored!.input).toBeGreaterThan(0);
    expect(stored!.output).toBeGreaterThan(0);
    const counted = (type: string) =>
      value(after, `report_chat_model_tokens_total{type="${type}"}`) - value(before, `report_chat_model_tokens_total{type="${type}"}`);
    expect(counted('input')).toBe(stored!.input);
    expect(counted('output')).toBe(stored!.output);
    expect(after).toMatch(/^# TYPE report_chat_citations_rejected_total counter$/m);
  });
});
