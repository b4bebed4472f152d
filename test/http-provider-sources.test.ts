import { randomUUID } from 'node:crypto';
import type { UIMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagesPageSchema } from '../src/api/schemas.js';
import { documentsOf, startFakeAnthropic } from './fakes/fake-anthropic-server.js';
import type { FakeBehavior, FakeProviderServer, RecordedRequest } from './fakes/fake-behavior.js';
import { startFakeOpenAI } from './fakes/fake-openai-server.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestApp, SAMPLE_REPORT, type TestApp } from './support/test-app.js';
import { sendThroughAiSdk } from './support/ui-message.js';

// A streamed answer from each real provider client, through the whole app, against fakes that cite (validly and
// not): every source that reaches the client, in the stream and in storage, is the stored report's own words.

interface ProviderCase {
  name: string;
  start: () => Promise<FakeProviderServer>;
  env: (baseUrl: string) => Record<string, string>;
  /** One valid citation and one invented. */
  behavior: FakeBehavior;
}

const anthropicDoc = (r: RecordedRequest) => documentsOf(r)[0]!.text;
const INVENTED = 'The pool was resized to 10,000 connections.';

const cases: ProviderCase[] = [
  {
    name: 'anthropic',
    start: () => startFakeAnthropic(),
    env: (baseUrl) => ({ LLM_PROVIDER: 'anthropic', LLM_BASE_URL: baseUrl, LLM_API_KEY: 'sk-ant-test' }),
    behavior: {
      answer: (r) => {
        const words = 'Transactions held their connection while calling the payment provider';
        const at = anthropicDoc(r).indexOf(words);
        return [
          { text: 'Transactions waited on the payment provider', cites: [{ start: at, end: at + words.length, citedText: words }] },
          { text: ', and the pool was resized', cites: [{ start: 0, end: INVENTED.length, citedText: INVENTED }] },
          { text: '.' },
        ];
      },
    },
  },
  {
    name: 'openai-compatible',
    start: () => startFakeOpenAI(),
    env: (baseUrl) => ({ LLM_PROVIDER: 'openai-compatible', LLM_BASE_URL: baseUrl, LLM_MODEL: 'fake-model', LLM_API_KEY: 'sk-test' }),
    behavior: { chunks: ['The pool was exhausted [P', '2] and then resized [P99].'] },
  },
];

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe.each(cases)('$name answers through the app', (c) => {
  let fake: FakeProviderServer;
  let app: TestApp;
  beforeAll(async () => {
    fake = await c.start();
    app = await createTestApp(db, c.env(fake.baseUrl));
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('stream and storage carry only verified sources, each exactly content.slice(start, end) of the report', async () => {
    fake.setBehavior(c.behavior);
    const { token } = await app.createUser();
    const reportId = await app.createReport(token);
    const { message, errors } = await sendThroughAiSdk(app, token, reportId, { id: randomUUID(), content: 'Why did the pool run out?' });
    expect(errors).toEqual([]);

    const streamed = message.parts.filter((p): p is Extract<UIMessage['parts'][number], { type: 'source-document' }> => p.type === 'source-document');
    const page = messagesPageSchema.parse(await (await app.request(`/api/reports/${reportId}/messages`, { token })).json());
    const answer = page.messages.at(-1)!;
    expect(answer.status).toBe('complete');
    expect(answer.sources).toHaveLength(1);
    const report = (await (await app.request(`/api/reports/${reportId}?revision=${answer.reportRevision}`, { token })).json()) as { content: string };
    expect(report.content).toBe(SAMPLE_REPORT);
    for (const source of answer.sources) {
      expect(source.quote).toBe(report.content.slice(source.start, source.end));
      expect(answer.content).toContain(`[${source.n}]`);
    }
    expect(answer.sources.map((s) => s.quote).join('')).not.toContain('10,000');
    expect(streamed.map((p) => (p.providerMetadata as { reportChat: unknown }).reportChat)).toEqual(
      answer.sources.map(({ n, start, end, quote }) => ({ n, start, end, quote })),
    );
  });
});
