import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  conversationExportSchema,
  errorSchema,
  messageSchema,
  messagesPageSchema,
  reportSchema,
  turnSchema,
} from '../src/api/schemas.js';
import { finishAnswer, reserveTurn } from '../src/store/turns.js';
import type { StoredSource } from '../src/store/types.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { turnInput } from './support/fixtures.js';
import { createTestApp, readSse, SAMPLE_REPORT, type TestApp } from './support/test-app.js';
import { sendThroughAiSdk } from './support/ui-message.js';

/**
 * An answer's sources, context and report revision as every reader of the API gets them: GET messages, replays
 * (JSON, SSE, and through the AI SDK's own client), the events stream, both exports; and the report revision they
 * point into, readable after the report changed. The answer is stored through the store, as an engine on another
 * instance would have stored it.
 */

let db: TestDatabase;
let t: TestApp;
let token: string;
let reportId: string;
let conversationId: string;
const question = { id: randomUUID(), content: 'Why did the pool run dry?' };
const ANSWER = 'Transactions held connections during slow calls [1], so the pool ran dry [2]. See also [3].';
let sources: StoredSource[];
let answerId: string;

function sourceOf(n: number, quote: string, heading: string): StoredSource {
  const start = SAMPLE_REPORT.indexOf(quote);
  if (start < 0) throw new Error(`not in the report: ${quote}`);
  return { n, start, end: start + quote.length, quote, heading };
}

beforeAll(async () => {
  db = await createTestDatabase();
  t = await createTestApp(db);
  ({ token } = await t.createUser());
  reportId = await t.createReport(token);
  const [conv] = await db.sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${reportId}`;
  conversationId = conv!.id;
  sources = [
    sourceOf(1, 'Transactions held their connection while calling the payment provider', 'Connection pool incident › Root cause'),
    sourceOf(2, 'the PostgreSQL connection pool was exhausted', 'Connection pool incident › Summary'),
  ];
  // Generated "elsewhere": this app's engine never runs it. `[3]` has no source (a rejected citation): plain text.
  const r = await reserveTurn(db.sql, turnInput(conversationId, { userMessageId: question.id, content: question.content, leaseOwner: 'elsewhere' }));
  answerId = r.assistantMessage.id;
  const finished = await finishAnswer(db.sql, {
    conversationId,
    seq: r.assistantMessage.seq,
    owner: 'elsewhere',
    status: 'complete',
    content: ANSWER,
    error: null,
    sources,
    context: { reportChars: SAMPLE_REPORT.length, sentChars: SAMPLE_REPORT.length, passages: 4, totalPassages: 4, historyTurns: 0 },
    reportRevision: 1,
  });
  expect(finished.applied).toBe(true);
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

const CONTEXT = () => ({ reportChars: SAMPLE_REPORT.length, sentChars: SAMPLE_REPORT.length, passages: 4, totalPassages: 4, historyTurns: 0 });

describe('sources in every reader of the conversation', () => {
  it('GET messages: the answer has its sources, context and revision; the question has [] and nulls', async () => {
    const res = await t.request(`/api/reports/${reportId}/messages`, { token });
    expect(res.status).toBe(200);
    const page = messagesPageSchema.parse(await res.json());
    expect(page.messages.map((m) => [m.role, m.sources, m.context, m.reportRevision])).toEqual([
      ['user', [], null, null],
      ['assistant', sources, CONTEXT(), 1],
    ]);
    const report = reportSchema.parse(await (await t.request(`/api/reports/${reportId}`, { token })).json());
    expect(report.revision).toBe(1);
    for (const s of page.messages[1]!.sources) expect(report.content.slice(s.start, s.end)).toBe(s.quote);
  });

  it('a JSON replay returns the stored answer with its sources', async () => {
    const res = await t.request(`/api/reports/${reportId}/messages`, {
      method: 'POST',
      token,
      json: question,
      headers: { accept: 'application/json' },
    });
    expect(res.status).toBe(200);
    const turn = turnSchema.parse(await res.json());
    expect(turn.assistantMessage).toMatchObject({ id: answerId, sources, context: CONTEXT(), reportRevision: 1 });
  });

  it('an SSE replay sends each source as a source-document chunk before text-end, and data-saved carries them', async () => {
    const res = await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: question });
    expect(res.status).toBe(200);
    const chunks = (await readSse(res).all()) as Array<Record<string, unknown>>;
    const types = chunks.map((c) => (typeof c === 'string' ? c : c.type));
    const documents = chunks.filter((c) => c.type === 'source-document');
    expect(documents).toEqual(
      sources.map((s) => ({
        type: 'source-document',
        sourceId: `${answerId}:${s.n}`,
        mediaType: 'text/markdown',
        title: s.heading,
        providerMetadata: { reportChat: { n: s.n, start: s.start, end: s.end, quote: s.quote } },
      })),
    );
    expect(types.lastIndexOf('source-document')).toBeLessThan(types.indexOf('text-end'));
    expect(types.indexOf('text-delta')).toBeLessThan(types.indexOf('source-document'));
    const saved = chunks.find((c) => c.type === 'data-saved') as { data: { message: unknown } };
    expect(messageSchema.parse(saved.data.message)).toMatchObject({ sources, reportRevision: 1 });
  });

  it("the AI SDK's own client (DefaultChatTransport + readUIMessageStream) accepts the stream and shows source-document parts", async () => {
    const { message, errors } = await sendThroughAiSdk(t, token, reportId, question);
    expect(errors).toEqual([]);
    expect(message.parts.filter((p) => p.type === 'text').map((p) => (p as { text: string }).text).join('')).toBe(ANSWER);
    const parts = message.parts.filter((p) => p.type === 'source-document');
    expect(parts).toEqual(
      sources.map((s) => ({
        type: 'source-document',
        sourceId: `${answerId}:${s.n}`,
        mediaType: 'text/markdown',
        title: s.heading,
        filename: undefined,
        providerMetadata: { reportChat: { n: s.n, start: s.start, end: s.end, quote: s.quote } },
      })),
    );
  });

  it('the events stream sends the answer with its sources', async () => {
    const res = await t.request(`/api/reports/${reportId}/events?after=0`, { token });
    expect(res.status).toBe(200);
    const stream = readSse(res);
    const events = [];
    while (events.length < 2) {
      const ev = await stream.next();
      if (!ev) break;
      if (ev.event === 'message') events.push(messageSchema.parse(JSON.parse(ev.data)));
    }
    await stream.stop();
    expect(events.map((m) => m.sources)).toEqual([[], sources]);
    expect(events[1]).toMatchObject({ context: CONTEXT(), reportRevision: 1 });
  });

  it('the JSON export holds the messages as the API returns them, sources included', async () => {
    const res = await t.request(`/api/reports/${reportId}/export?format=json`, { token });
    const exported = conversationExportSchema.parse(await res.json());
    expect(exported.messages[1]).toMatchObject({ sources, context: CONTEXT(), reportRevision: 1 });
  });

  it('the Markdown export turns cited markers into footnotes with the heading path and the quote', async () => {
    const text = await (await t.request(`/api/reports/${reportId}/export?format=markdown`, { token })).text();
    expect(text).toContain('Transactions held connections during slow calls [^2.1], so the pool ran dry [^2.2]. See also [3].');
    expect(text).toContain(
      '[^2.1]: **Connection pool incident › Root cause**\n\n    > Transactions held their connection while calling the payment provider\n',
    );
    expect(text).toContain('[^2.2]: **Connection pool incident › Summary**\n\n    > the PostgreSQL connection pool was exhausted\n');
    expect(text).toContain('report revision 1');
  });
});

describe('report revisions over HTTP', () => {
  it('after the content changes, the answer still names revision 1, and its sources equal the slices of ?revision=1', async () => {
    const changed = `${SAMPLE_REPORT.replace('On 12 March', 'On Tuesday 12 March 2026')}\n## Follow-up\n\nDone.\n`;
    const patched = await t.request(`/api/reports/${reportId}`, { method: 'PATCH', token, json: { content: changed } });
    expect(patched.status).toBe(200);
    expect(reportSchema.parse(await patched.json())).toMatchObject({ revision: 2, content: changed });
    // A change of title only is no new revision.
    const renamed = await t.request(`/api/reports/${reportId}`, { method: 'PATCH', token, json: { title: 'Renamed' } });
    expect(reportSchema.parse(await renamed.json()).revision).toBe(2);

    const page = messagesPageSchema.parse(await (await t.request(`/api/reports/${reportId}/messages`, { token })).json());
    const answer = page.messages[1]!;
    expect(answer.reportRevision).toBe(1);
    const current = reportSchema.parse(await (await t.request(`/api/reports/${reportId}`, { token })).json());
    expect(current).toMatchObject({ revision: 2, content: changed, title: 'Renamed' });
    // The offsets no longer hold in the current text: that is why the revision is kept.
    expect(answer.sources.some((s) => current.content.slice(s.start, s.end) !== s.quote)).toBe(true);
    const res = await t.request(`/api/reports/${reportId}?revision=${answer.reportRevision}`, { token });
    expect(res.status).toBe(200);
    const earlier = reportSchema.parse(await res.json());
    expect(earlier).toMatchObject({ id: reportId, revision: 1, content: SAMPLE_REPORT, title: 'Renamed' });
    for (const s of answer.sources) expect(earlier.content.slice(s.start, s.end)).toBe(s.quote);
    const same = reportSchema.parse(await (await t.request(`/api/reports/${reportId}?revision=2`, { token })).json());
    expect(same).toMatchObject({ revision: 2, content: changed });
  });

  it('a revision the report never had is 404; anything but a positive integer is 400; a stranger gets 404', async () => {
    const notThere = await t.request(`/api/reports/${reportId}?revision=3`, { token });
    expect(notThere.status).toBe(404);
    expect(errorSchema.parse(await notThere.json()).error.code).toBe('not_found');
    for (const bad of ['abc', '0', '-1', '1.5', '1e2', '', '99999999999']) {
      const res = await t.request(`/api/reports/${reportId}?revision=${bad}`, { token });
      expect(res.status, bad).toBe(400);
      expect(errorSchema.parse(await res.json()).error.code).toBe('invalid_request');
    }
    const stranger = await t.createUser();
    const hidden = await t.request(`/api/reports/${reportId}?revision=1`, { token: stranger.token });
    expect(hidden.status).toBe(404);
  });
});
