import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageSchema, messagesPageSchema, reportSchema, turnSchema } from '../src/api/schemas.js';
import { reserveTurn } from '../src/store/turns.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { turnInput } from './support/fixtures.js';
import { createTestApp, readSse, type TestApp } from './support/test-app.js';

let db: TestDatabase;
let t: TestApp;
let token: string;

beforeAll(async () => {
  db = await createTestDatabase();
  t = await createTestApp(db);
  ({ token } = await t.createUser());
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

const send = (reportId: string, body: unknown, headers: Record<string, string> = {}) =>
  t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: body, headers });

type StreamEvent = { type: string; [k: string]: unknown };

describe('a turn over SSE', () => {
  it('streams the events of API.md in order, and the joined deltas equal the saved content', async () => {
    const reportId = await t.createReport(token);
    const id = randomUUID();
    const res = await send(reportId, { id, content: 'What was the root cause?' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    const events = (await readSse(res).all()) as StreamEvent[];

    const types = events.map((e) => (typeof e === 'string' ? e : e.type));
    const deltas = types.filter((x) => x === 'text-delta').length;
    expect(deltas).toBeGreaterThan(1);
    // Sources come among the deltas (each after the one holding its marker), all before text-end.
    const sources = types.filter((x) => x === 'source-document').length;
    expect(sources).toBeGreaterThan(0);
    expect(types.filter((x) => x !== 'source-document')).toEqual([
      'start', 'data-turn', 'text-start', ...Array(deltas).fill('text-delta'), 'text-end', 'data-saved', 'finish', '[DONE]',
    ]);
    expect(types.lastIndexOf('source-document')).toBeLessThan(types.indexOf('text-end'));

    const start = events[0]!;
    const turn = events[1]!.data as { userMessage: unknown; assistantMessage: { id: string; status: string } };
    expect(messageSchema.parse(turn.userMessage)).toMatchObject({ id, seq: 1, role: 'user', content: 'What was the root cause?' });
    // Nothing was ahead of it, so the reserve started it: its first status is streaming (docs/api-notes.md).
    expect(turn.assistantMessage).toMatchObject({ seq: 2, role: 'assistant', replyTo: id, status: 'streaming' });
    expect(start.messageId).toBe(turn.assistantMessage.id);

    const text = events.filter((e) => e.type === 'text-delta').map((e) => e.delta as string).join('');
    const saved = events.find((e) => e.type === 'data-saved')!.data as { saved: boolean; message: { content: string; status: string } };
    expect(saved.saved).toBe(true);
    expect(saved.message.status).toBe('complete');
    expect(saved.message.content).toBe(text);
    // Grounded: the offline model quotes the report's root-cause passage.
    expect(text).toContain('payment provider');

    const page = messagesPageSchema.parse(await (await t.request(`/api/reports/${reportId}/messages`, { token })).json());
    expect(page.messages.map((m) => [m.seq, m.role, m.status])).toEqual([
      [1, 'user', 'complete'],
      [2, 'assistant', 'complete'],
    ]);
    expect(page.messages[1]!.content).toBe(text);
    // Versions: the question (1), the answer created streaming (2), its final content (3).
    expect(page.version).toBe(3);
  });

  it('answers in JSON with 201 when asked, and a replay gets 200 with the same turn', async () => {
    const reportId = await t.createReport(token);
    const id = randomUUID();
    const res = await send(reportId, { id, content: 'What should we do first?' }, { accept: 'application/json' });
    expect(res.status).toBe(201);
    const body = turnSchema.parse(await res.json());
    expect(body.saved).toBe(true);
    expect(body.assistantMessage.status).toBe('complete');
    expect(body.assistantMessage.content.length).toBeGreaterThan(0);

    const again = await send(reportId, { id, content: 'What should we do first?' }, { accept: 'application/json' });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(turnSchema.parse(await again.json())).toEqual(body);
  });
});

describe('replay and preconditions', () => {
  it('a resend of a turn whose request gave up after its reserve committed runs the orphaned answer, once', async () => {
    const reportId = await t.createReport(token);
    const [conv] = await db.sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${reportId}`;
    const id = randomUUID();
    const content = 'Which pool setting caused the outage?';
    // What a request leaves behind when its reserve committed but it never learned so ("may have been saved"): the
    // answer streaming under this instance's lease, and nobody generating it.
    const orphan = await reserveTurn(
      db.sql,
      turnInput(conv!.id, { userMessageId: id, content, leaseOwner: t.ctx.instanceId, start: { model: t.ctx.engine.modelId } }),
    );
    expect(orphan.assistantMessage.status).toBe('streaming');

    // The client sends it again, twice at once: one generation, both follow it, and both are told it is a replay.
    const [a, b] = await Promise.all([send(reportId, { id, content }), send(reportId, { id, content })]);
    for (const res of [a, b]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('idempotent-replayed')).toBe('true');
    }
    const streams = (await Promise.all([readSse(a).all(), readSse(b).all()])) as StreamEvent[][];
    for (const events of streams) {
      const saved = events.find((e) => e.type === 'data-saved')!.data as { saved: boolean; message: { id: string; status: string; content: string } };
      expect(saved).toMatchObject({ saved: true, message: { id: orphan.assistantMessage.id, status: 'complete' } });
      expect(events.filter((e) => e.type === 'text-delta').map((e) => e.delta).join('')).toBe(saved.message.content);
    }
    const rows = await db.sql<{ role: string; status: string; changedVersion: number }[]>`
      SELECT role, status, changed_version FROM messages WHERE conversation_id = ${conv!.id} ORDER BY seq`;
    // Created (1, 2) and finished once (3): a second generation would have been refused or left a trace.
    expect(rows).toEqual([
      { role: 'user', status: 'complete', changedVersion: 1 },
      { role: 'assistant', status: 'complete', changedVersion: 3 },
    ]);
  });

  it('the engine runs an answer once, however often it is started (a resend adopting it while its request retries)', async () => {
    const reportId = await t.createReport(token);
    const [conv] = await db.sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${reportId}`;
    const reserved = await reserveTurn(
      db.sql,
      turnInput(conv!.id, { content: 'What should we do first?', leaseOwner: t.ctx.instanceId, start: { model: t.ctx.engine.modelId } }),
    );
    const turn = {
      conversationId: conv!.id,
      reportId,
      reportTitle: 'Connection pool incident',
      reportRevision: 1,
      reportContent: '# Report',
      question: reserved.userMessage.content,
      assistant: reserved.assistantMessage,
    };
    const first = t.ctx.engine.start(turn);
    const second = t.ctx.engine.start(turn);
    expect(second).toBe(first);
    const outcome = await first.done;
    expect(outcome).toMatchObject({ saved: true, message: { status: 'complete', changedVersion: 3 } });
    const [row] = await db.sql<{ version: number }[]>`SELECT version FROM conversations WHERE id = ${conv!.id}`;
    expect(row!.version).toBe(3);
  });

  it('a send whose reserve commits after shutdown began gets its answer ended at once as interrupted', async () => {
    const closing = await createTestApp(db);
    const reportId = await closing.createReport(token);
    await closing.ctx.engine.shutdown(); // as SIGTERM's close() does after the grace period
    const started = Date.now();
    const res = await closing.request(`/api/reports/${reportId}/messages`, {
      method: 'POST',
      token,
      json: { content: 'Anyone there?' },
      headers: { accept: 'application/json' },
    });
    const body = turnSchema.parse(await res.json());
    expect(body.saved).toBe(true);
    expect(body.assistantMessage).toMatchObject({ status: 'interrupted', content: '' });
    // Ended by the engine, not by the sweeper after the lease (15 s by default).
    expect(Date.now() - started).toBeLessThan(10_000);
    await closing.close();
  });

  it('a replay during the answer follows the same live answer; no second turn is created', async () => {
    const slow = await createTestApp(db, { LOCAL_MODEL_CHUNK_DELAY_MS: '20' });
    try {
      const reportId = await slow.createReport(token);
      const id = randomUUID();
      const body = { id, content: 'What was the root cause?' };
      const first = await slow.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: body });
      const firstStream = readSse(first);
      await firstStream.next(); // start
      await firstStream.next(); // data-turn
      const second = await slow.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: body });
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      const [a, b] = (await Promise.all([firstStream.all(), readSse(second).all()])) as [StreamEvent[], StreamEvent[]];
      const joined = (events: StreamEvent[]) => events.filter((e) => e.type === 'text-delta').map((e) => e.delta).join('');
      const savedOf = (events: StreamEvent[]) => (events.find((e) => e.type === 'data-saved')!.data as { message: { id: string; content: string } }).message;
      expect(savedOf(b).id).toBe(savedOf(a).id);
      expect(joined(b)).toBe(savedOf(b).content);
      expect(joined(a)).toBe(savedOf(a).content);
      expect(b[0]).toMatchObject({ type: 'start', messageId: savedOf(a).id });

      const page = messagesPageSchema.parse(await (await slow.request(`/api/reports/${reportId}/messages`, { token })).json());
      expect(page.messages).toHaveLength(2);
    } finally {
      await slow.close();
    }
  });

  it('the same id with other content is 422 idempotency_conflict; Idempotency-Key works and must agree', async () => {
    const reportId = await t.createReport(token);
    const id = randomUUID();
    const ok = await send(reportId, { content: 'first' }, { accept: 'application/json', 'idempotency-key': id });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { userMessage: { id: string } }).userMessage.id).toBe(id);

    const conflict = await send(reportId, { id, content: 'different' }, { accept: 'application/json' });
    expect(conflict.status).toBe(422);
    expect(await conflict.json()).toEqual({ error: { code: 'idempotency_conflict', message: expect.any(String) } });

    const disagree = await send(reportId, { id: randomUUID(), content: 'x' }, { 'idempotency-key': randomUUID() });
    expect(disagree.status).toBe(400);
    expect(((await disagree.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    const page = messagesPageSchema.parse(await (await t.request(`/api/reports/${reportId}/messages`, { token })).json());
    expect(page.messages.map((m) => m.content).filter((c) => c === 'different' || c === 'x')).toEqual([]);
  });

  it('an id stored in another conversation is 404 there and changes nothing; replays in its own stay as they were', async () => {
    const other = await t.createUser();
    const mine = await t.createReport(token);
    const theirs = await t.createReport(other.token);
    const alsoMine = await t.createReport(token);
    const id = randomUUID();
    expect((await send(mine, { id, content: 'first' }, { accept: 'application/json' })).status).toBe(201);

    const pageOf = async (reportId: string, callerToken: string) => {
      const res = await t.request(`/api/reports/${reportId}/messages`, { token: callerToken });
      return { etag: res.headers.get('etag'), messages: messagesPageSchema.parse(await res.json()).messages };
    };
    const before = [await pageOf(theirs, other.token), await pageOf(alsoMine, token)];
    // Another member's report, and another report of the sender's own; the same content or another one.
    for (const [reportId, callerToken] of [[theirs, other.token], [alsoMine, token]] as const) {
      for (const content of ['first', 'other']) {
        const res = await t.request(`/api/reports/${reportId}/messages`, {
          method: 'POST',
          token: callerToken,
          json: { id, content },
          headers: { accept: 'application/json' },
        });
        expect(res.status).toBe(404);
        expect(await res.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
      }
    }
    expect([await pageOf(theirs, other.token), await pageOf(alsoMine, token)]).toEqual(before);
    expect(before.map((p) => p.messages)).toEqual([[], []]);

    const replay = await send(mine, { id, content: 'first' }, { accept: 'application/json' });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(((await replay.json()) as { userMessage: { id: string; content: string } }).userMessage).toMatchObject({ id, content: 'first' });
    expect((await send(mine, { id, content: 'changed' }, { accept: 'application/json' })).status).toBe(422);
  });

  it('If-Match: a stale version is 412 and stores nothing; the current one appends', async () => {
    const reportId = await t.createReport(token);
    await send(reportId, { id: randomUUID(), content: 'one' }, { accept: 'application/json' });
    const stale = await send(reportId, { id: randomUUID(), content: 'two' }, { accept: 'application/json', 'if-match': '"0"' });
    expect(stale.status).toBe(412);
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe('precondition_failed');
    const current = await t.request(`/api/reports/${reportId}/messages`, { token });
    const etag = current.headers.get('etag')!;
    expect(etag).toBe('"3"');
    const fresh = await send(reportId, { id: randomUUID(), content: 'three' }, { accept: 'application/json', 'if-match': etag });
    expect(fresh.status).toBe(201);
    const page = messagesPageSchema.parse(await (await t.request(`/api/reports/${reportId}/messages`, { token })).json());
    expect(page.messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['one', 'three']);
  });
});

describe('history, export and clear', () => {
  it('pages by before/after with hasMoreBefore, and answers 304 to the current ETag', async () => {
    const reportId = await t.createReport(token);
    for (let i = 1; i <= 3; i++) await send(reportId, { id: randomUUID(), content: `q${i}` }, { accept: 'application/json' });
    const newest = await t.request(`/api/reports/${reportId}/messages?limit=2`, { token });
    const page = messagesPageSchema.parse(await newest.json());
    expect(page.messages.map((m) => m.seq)).toEqual([5, 6]);
    expect(page.hasMoreBefore).toBe(true);
    const older = messagesPageSchema.parse(await (await t.request(`/api/reports/${reportId}/messages?limit=10&before=5`, { token })).json());
    expect(older.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(older.hasMoreBefore).toBe(false);
    const after = messagesPageSchema.parse(await (await t.request(`/api/reports/${reportId}/messages?after=4`, { token })).json());
    expect(after.messages.map((m) => m.seq)).toEqual([5, 6]);
    expect(after.hasMoreBefore).toBe(true);

    const notModified = await t.request(`/api/reports/${reportId}/messages?limit=2`, { token, headers: { 'if-none-match': newest.headers.get('etag')! } });
    expect(notModified.status).toBe(304);
    const bad = await t.request(`/api/reports/${reportId}/messages?limit=0`, { token });
    expect(bad.status).toBe(400);
  });

  it('exports Markdown and JSON as downloads', async () => {
    const reportId = await t.createReport(token);
    await send(reportId, { id: randomUUID(), content: 'What was the root cause?' }, { accept: 'application/json' });
    const md = await t.request(`/api/reports/${reportId}/export?format=markdown`, { token });
    expect(md.status).toBe(200);
    expect(md.headers.get('content-disposition')).toMatch(/^attachment; filename=".+\.md"$/);
    expect(md.headers.get('content-type')).toMatch(/^text\/markdown/);
    expect(await md.text()).toContain('What was the root cause?');
    const json = await t.request(`/api/reports/${reportId}/export?format=json`, { token });
    expect(json.headers.get('content-disposition')).toMatch(/\.json"$/);
    const body = (await json.json()) as { messages: unknown[] };
    expect(body.messages.map((m) => messageSchema.parse(m).seq)).toEqual([1, 2]);
    expect((await t.request(`/api/reports/${reportId}/export?format=pdf`, { token })).status).toBe(400);
  });

  it('clear needs If-Match (428), refuses a stale one (412), then clears; seqs keep growing', async () => {
    const reportId = await t.createReport(token);
    await send(reportId, { id: randomUUID(), content: 'hello' }, { accept: 'application/json' });
    const noMatch = await t.request(`/api/reports/${reportId}/messages`, { method: 'DELETE', token });
    expect(noMatch.status).toBe(428);
    expect(((await noMatch.json()) as { error: { code: string } }).error.code).toBe('precondition_required');
    const stale = await t.request(`/api/reports/${reportId}/messages`, { method: 'DELETE', token, headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(412);
    const cleared = await t.request(`/api/reports/${reportId}/messages`, { method: 'DELETE', token, headers: { 'if-match': '"3"' } });
    expect(cleared.status).toBe(204);
    const empty = messagesPageSchema.parse(await (await t.request(`/api/reports/${reportId}/messages`, { token })).json());
    expect(empty).toEqual({ messages: [], version: 4, hasMoreBefore: false });
    const next = turnSchema.parse(await (await send(reportId, { id: randomUUID(), content: 'again' }, { accept: 'application/json' })).json());
    expect(next.userMessage.seq).toBe(3);
  });
});

describe('reports', () => {
  it('creates, lists newest first with message counts, reads and patches', async () => {
    const user = await t.createUser();
    const a = await t.createReport(user.token, '# A\n\ntext', 'A');
    const b = await t.createReport(user.token, '# B\n\ntext', 'B');
    await t.request(`/api/reports/${a}/messages`, { method: 'POST', token: user.token, json: { content: 'hi' }, headers: { accept: 'application/json' } });
    const list = (await (await t.request('/api/reports', { token: user.token })).json()) as { reports: Array<{ id: string; messageCount: number; role: string }> };
    expect(list.reports.map((r) => [r.id, r.messageCount, r.role])).toEqual([
      [b, 0, 'owner'],
      [a, 2, 'owner'],
    ]);
    const got = reportSchema.parse(await (await t.request(`/api/reports/${a}`, { token: user.token })).json());
    expect(got).toMatchObject({ id: a, title: 'A', status: 'complete', role: 'owner', content: '# A\n\ntext' });
    const patched = await t.request(`/api/reports/${a}`, { method: 'PATCH', token: user.token, json: { status: 'generating' } });
    expect(reportSchema.parse(await patched.json()).status).toBe('generating');
    const notReady = await t.request(`/api/reports/${a}/messages`, { method: 'POST', token: user.token, json: { content: 'hi' } });
    expect(notReady.status).toBe(409);
    expect(((await notReady.json()) as { error: { code: string } }).error.code).toBe('report_not_ready');
  });
});
