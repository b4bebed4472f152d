import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from './fakes/fake-anthropic-server.js';
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

describe('model token and citation counters', () => {
  let openai: FakeProviderServer;
  let anthropic: FakeProviderServer;
  const apps: TestApp[] = [];
  beforeAll(async () => {
    openai = await startFakeOpenAI();
    anthropic = await startFakeAnthropic();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await openai?.close();
    await anthropic?.close();
  });

  /** Sends `questions` on a fresh report; returns /metrics before and after, and the usage stored with the answers. */
  async function turns(env: Record<string, string>, questions: number) {
    const app = await createTestApp(db, env);
    apps.push(app);
    const before = await scrape(app);
    const { token } = await app.createUser();
    const reportId = await app.createReport(token);
    for (let i = 0; i < questions; i++) {
      const res = await app.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { content: `q${i}` }, headers: { accept: 'application/json' } });
      expect(res.status).toBe(201);
    }
    const after = await scrape(app);
    const [stored] = await db.sql<Record<'input' | 'output' | 'cacheRead' | 'cacheWrite' | 'sources', number>[]>`
      SELECT sum(m.input_tokens)::int AS input, sum(m.output_tokens)::int AS output, sum(m.cache_read_tokens)::int AS cache_read,
             sum(m.cache_write_tokens)::int AS cache_write, sum(jsonb_array_length(m.sources))::int AS sources
      FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.report_id = ${reportId} AND m.role = 'assistant'`;
    const counted = (series: string) => value(after, series) - value(before, series);
    return { stored: stored!, counted };
  }

  it('count the tokens the provider reported, as stored with each answer, cache reads and writes included', async () => {
    const { stored, counted } = await turns(
      { LLM_PROVIDER: 'anthropic', LLM_BASE_URL: anthropic.baseUrl, LLM_API_KEY: 'sk-ant-test' },
      2,
    );
    // The second turn reads the prefix the first one wrote.
    expect(stored.cacheWrite).toBeGreaterThan(0);
    expect(stored.cacheRead).toBeGreaterThan(0);
    const byType = { input: stored.input, output: stored.output, cache_read: stored.cacheRead, cache_write: stored.cacheWrite };
    for (const [type, tokens] of Object.entries(byType)) {
      expect(counted(`report_chat_model_tokens_total{type="${type}"}`), type).toBe(tokens);
    }
  });

  it('count citations that match no passage, which never become sources', async () => {
    openai.setBehavior({ chunks: ['The pool was exhausted [P1', '] and the moon is cheese [P99].'] });
    const { stored, counted } = await turns(
      { LLM_PROVIDER: 'openai-compatible', LLM_BASE_URL: openai.baseUrl, LLM_MODEL: 'fake-model', LLM_API_KEY: 'sk-test' },
      1,
    );
    expect(stored.sources).toBe(1);
    expect(counted('report_chat_citations_rejected_total')).toBe(1);
    expect(counted('report_chat_model_tokens_total{type="input"}')).toBe(stored.input);
  });
});
