import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  conversationExportSchema,
  conversationListSchema,
  conversationSchema,
  errorSchema,
  messageSchema,
  messagesPageSchema,
  turnSchema,
} from '../src/api/schemas.js';
import type { Conversation, Message } from '../src/client/types.js';
import { startFakeOpenAI } from './fakes/fake-openai-server.js';
import type { FakeBehavior, FakeProviderServer } from './fakes/fake-behavior.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { endsWithin } from './support/stream-end.js';
import { createTestApp, readSse, type TestApp } from './support/test-app.js';

/**
 * The conversations of a report over HTTP: listing and visibility, creation and its idempotency, forks (a copy of a
 * prefix that never changes its source), sends into forks, renaming, unsharing and deleting, the limits, export and
 * the events stream, each through the real app on a real database. The model is the fake OpenAI-compatible server,
 * whose `[P2]` cites a passage of the report, so copied answers carry sources.
 */

const MAX_CONVERSATIONS = 4;
const CITING: FakeBehavior = { chunks: ['The pool ran out ', 'of connections [P', '2].'] };

let db: TestDatabase;
let fake: FakeProviderServer;
let t: TestApp;
let llmEnv: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startFakeOpenAI({ behavior: CITING });
  llmEnv = { LLM_PROVIDER: 'openai-compatible', LLM_BASE_URL: fake.baseUrl, LLM_MODEL: 'fake-model' };
  t = await createTestApp(db, { ...llmEnv, MAX_CONVERSATIONS_PER_REPORT: String(MAX_CONVERSATIONS) });
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
  await db?.drop();
});

type User = { id: string; token: string };

const main = (reportId: string) => `/api/reports/${reportId}`;
const conv = (conversationId: string) => `/api/conversations/${conversationId}`;

/** A report owned by a new user, with an editor and a viewer; `main` is the path of its main conversation. */
async function team() {
  const [owner, editor, viewer, stranger] = [await t.createUser(), await t.createUser(), await t.createUser(), await t.createUser()];
  const reportId = await t.createReport(owner.token);
  for (const [user, role] of [
    [editor, 'editor'],
    [viewer, 'viewer'],
  ] as const) {
    expect((await t.request(`${main(reportId)}/members/${user.id}`, { method: 'PUT', token: owner.token, json: { role } })).status).toBe(200);
  }
  const [mainRow] = await db.sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${reportId} AND is_main`;
  return { owner, editor, viewer, stranger, reportId, mainId: mainRow!.id };
}

function createRaw(app: TestApp, user: User, reportId: string, body: Record<string, unknown>) {
  return app.request(`${main(reportId)}/conversations`, { method: 'POST', token: user.token, json: body });
}

async function create(user: User, reportId: string, body: Record<string, unknown> = {}): Promise<Conversation> {
  const res = await createRaw(t, user, reportId, { id: randomUUID(), ...body });
  expect(res.status, await res.clone().text()).toBe(201);
  return conversationSchema.parse(await res.json());
}

const fork = (user: User, reportId: string, conversationId: string, seq: number, extra: Record<string, unknown> = {}) =>
  create(user, reportId, { forkFrom: { conversationId, seq }, ...extra });

/** A JSON send that waits for the whole turn. */
async function ask(user: User, at: string, content: string, app: TestApp = t) {
  const res = await app.request(`${at}/messages`, { method: 'POST', token: user.token, json: { id: randomUUID(), content }, headers: { accept: 'application/json' } });
  expect(res.status, await res.clone().text()).toBe(201);
  return turnSchema.parse(await res.json());
}

/** A streamed send left running (the fake hangs after one chunk) until `stop()`. */
async function askAndHang(user: User, at: string, content: string) {
  fake.setBehavior({ chunks: ['Thinking ', 'still'], hangAfterChunks: 1 });
  const requests = fake.requests.length;
  const stream = readSse(await t.request(`${at}/messages`, { method: 'POST', token: user.token, json: { id: randomUUID(), content } }));
  let turn: { assistantMessage: Message } | undefined;
  for (let i = 0; i < 20 && !turn; i++) {
    const ev = await stream.next();
    const data = ev && ev.data !== '[DONE]' ? (JSON.parse(ev.data) as { type: string; data?: unknown }) : undefined;
    if (data?.type === 'data-turn') turn = data.data as { assistantMessage: Message };
  }
  // The behaviour a request gets is the one set when it arrives: keep hanging until the model was asked.
  for (let i = 0; i < 200 && fake.requests.length === requests; i++) await sleep(10);
  fake.setBehavior(CITING);
  if (!turn || fake.requests.length === requests) throw new Error('the answer did not reach the model');
  const answer = turn.assistantMessage;
  return {
    answer,
    async stop() {
      const res = await t.request(`${at}/messages/${answer.id}/stop`, { method: 'POST', token: user.token });
      expect(res.status).toBe(200);
      await stream.all();
      return messageSchema.parse(((await res.json()) as { message: unknown }).message);
    },
  };
}

async function page(user: User, at: string) {
  const res = await t.request(`${at}/messages?limit=200`, { token: user.token });
  expect(res.status).toBe(200);
  return messagesPageSchema.parse(await res.json());
}

async function list(user: User, reportId: string) {
  const res = await t.request(`${main(reportId)}/conversations`, { token: user.token });
  expect(res.status).toBe(200);
  return conversationListSchema.parse(await res.json()).conversations;
}

async function errorOf(res: Response): Promise<[number, string]> {
  return [res.status, errorSchema.parse(await res.json()).error.code];
}

/** Every column of a conversation's stored rows, and of its conversation row: what "unchanged" compares. */
async function storedState(conversationId: string) {
  const messages = await db.sql`SELECT * FROM messages WHERE conversation_id = ${conversationId} ORDER BY seq`;
  const [conversation] = await db.sql`SELECT * FROM conversations WHERE id = ${conversationId}`;
  const pieces = await db.sql`
    SELECT p.* FROM answer_piece_rows p JOIN messages m ON m.piece_key = p.piece_key
    WHERE m.conversation_id = ${conversationId} ORDER BY m.seq, p.text_offset`;
  return { conversation, messages: [...messages], pieces: [...pieces] };
}

async function openEvents(user: User, at: string, lastEventId?: number) {
  const res = await t.request(`${at}/events`, { token: user.token, headers: lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) } });
  expect(res.status).toBe(200);
  return readSse(res);
}

/** True when the server ends the stream, well within the read timeout. */
const ends = (stream: ReturnType<typeof readSse>) => endsWithin(stream, 5_000);

/** The next `message` event whose data satisfies `match`, skipping others; undefined if the stream ends first. */
async function nextMessage(stream: ReturnType<typeof readSse>, match: (m: Message) => boolean) {
  for (let i = 0; i < 200; i++) {
    const ev = await stream.next(5_000);
    if (!ev) return undefined;
    if (ev.event !== 'message') continue;
    const m = messageSchema.parse(JSON.parse(ev.data));
    if (match(m)) return { version: Number(ev.id), message: m };
  }
  return undefined;
}

/** What a copy must hold of its original: everything but the identity and the conversation. */
const copiedFields = (m: Message) => ({
  seq: m.seq,
  role: m.role,
  content: m.content,
  status: m.status,
  error: m.error,
  sources: m.sources,
  context: m.context,
  reportRevision: m.reportRevision,
});

describe('the list and who sees what', () => {
  it('lists newest activity first; a private conversation is seen only by its creator, not even by the owner', async () => {
    const { owner, editor, viewer, stranger, reportId, mainId } = await team();
    const a = await create(owner, reportId, { title: 'A' });
    const p = await create(editor, reportId, { title: 'P', visibility: 'private' });
    const b = await create(editor, reportId, { title: 'B' });
    await ask(owner, conv(a.id), 'What was the root cause?');

    expect((await list(owner, reportId)).map((c) => c.id)).toEqual([a.id, b.id, mainId]);
    expect((await list(viewer, reportId)).map((c) => c.id)).toEqual([a.id, b.id, mainId]);
    const editors = await list(editor, reportId);
    expect(editors.map((c) => c.id)).toEqual([a.id, b.id, p.id, mainId]);
    expect(editors.find((c) => c.id === mainId)).toMatchObject({ isMain: true, visibility: 'shared', createdBy: owner.id, title: 'Main conversation' });
    expect(editors.find((c) => c.id === a.id)).toMatchObject({ isMain: false, version: 3, messageCount: 2, lastSeq: 2 });
    expect(await errorOf(await t.request(`${main(reportId)}/conversations`, { token: stranger.token }))).toEqual([404, 'not_found']);

    // Every door of the private one answers everyone else as a conversation that does not exist would: 404 (a
    // viewer may fork nothing at all, so their fork is 403 either way).
    const doors = (user: User, id: string) => [
      t.request(conv(id), { token: user.token }),
      t.request(`${conv(id)}/messages`, { token: user.token }),
      t.request(`${conv(id)}/events`, { token: user.token }),
      t.request(`${conv(id)}/export?format=json`, { token: user.token }),
      t.request(`${conv(id)}/messages`, { method: 'POST', token: user.token, json: { content: 'peek' }, headers: { accept: 'application/json' } }),
      t.request(`${conv(id)}/messages/${randomUUID()}/stop`, { method: 'POST', token: user.token }),
      createRaw(t, user, reportId, { forkFrom: { conversationId: id, seq: 0 } }),
    ];
    const missing = randomUUID();
    for (const user of [owner, viewer, stranger]) {
      const answers = async (id: string) => Promise.all((await Promise.all(doors(user, id))).map(errorOf));
      const forPrivate = await answers(p.id);
      expect(forPrivate).toEqual(await answers(missing));
      const fork = user === viewer ? [403, 'forbidden'] : [404, 'not_found'];
      expect(forPrivate).toEqual([...Array(6).fill([404, 'not_found']), fork]);
    }
    expect((await page(editor, conv(p.id))).messages).toEqual([]);
  });

  it('the main conversation is the same under /api/conversations as under its report', async () => {
    const { owner, reportId, mainId } = await team();
    const turn = await ask(owner, main(reportId), 'Where did the time go?');
    expect(turn.userMessage.conversationId).toBe(mainId);
    expect(await page(owner, conv(mainId))).toEqual(await page(owner, main(reportId)));
  });
});

describe('creating a conversation', () => {
  it('answers 201, replays the same body with 200 and Idempotent-Replayed, refuses another body with the id (422)', async () => {
    const { owner, editor, viewer, stranger, reportId } = await team();
    const id = randomUUID();
    const first = await createRaw(t, editor, reportId, { id, title: 'Pool sizing' });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const created = conversationSchema.parse(await first.json());
    expect(created).toMatchObject({
      id,
      reportId,
      title: 'Pool sizing',
      visibility: 'shared',
      isMain: false,
      createdBy: editor.id,
      forkedFrom: null,
      version: 0,
      messageCount: 0,
      lastSeq: 0,
    });

    // A default sent explicitly is the same request; the id's case does not matter.
    const again = await createRaw(t, editor, reportId, { id: id.toUpperCase(), title: 'Pool sizing', visibility: 'shared' });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(conversationSchema.parse(await again.json())).toEqual(created);

    const before = await list(owner, reportId);
    expect(await errorOf(await createRaw(t, editor, reportId, { id, title: 'Another title' }))).toEqual([422, 'idempotency_conflict']);
    expect(await errorOf(await createRaw(t, editor, reportId, { id, title: 'Pool sizing', visibility: 'private' }))).toEqual([422, 'idempotency_conflict']);
    // The same body from someone else is not their replay.
    expect(await errorOf(await createRaw(t, owner, reportId, { id, title: 'Pool sizing' }))).toEqual([422, 'idempotency_conflict']);
    expect(await errorOf(await createRaw(t, viewer, reportId, { title: 'Mine' }))).toEqual([403, 'forbidden']);
    expect(await errorOf(await createRaw(t, stranger, reportId, { title: 'Mine' }))).toEqual([404, 'not_found']);
    expect(await errorOf(await createRaw(t, editor, randomUUID(), { title: 'Nowhere' }))).toEqual([404, 'not_found']);
    expect(await list(owner, reportId)).toEqual(before);
    expect((await t.request(conv(id), { token: viewer.token }).then((r) => r.json())) as unknown).toEqual(created);
  });

  it('a fork sent again is its replay even when its source was since deleted or made private by someone else', async () => {
    const { owner, editor, reportId } = await team();
    for (const change of ['delete', 'unshare'] as const) {
      const source = await create(owner, reportId, { title: `Source to ${change}` });
      await ask(owner, conv(source.id), 'Worth keeping?');
      const body = { id: randomUUID(), forkFrom: { conversationId: source.id, seq: 2 } };
      const first = await createRaw(t, editor, reportId, body);
      expect(first.status).toBe(201);
      const created = conversationSchema.parse(await first.json());
      const res =
        change === 'delete'
          ? await t.request(conv(source.id), { method: 'DELETE', token: owner.token, headers: { 'if-match': '"3"' } })
          : await t.request(conv(source.id), { method: 'PATCH', token: owner.token, json: { visibility: 'private' } });
      expect(res.status).toBeLessThan(300);
      // The editor's response was lost; their client sends the same request again.
      const again = await createRaw(t, editor, reportId, body);
      expect([again.status, again.headers.get('idempotent-replayed')], change).toEqual([200, 'true']);
      expect(conversationSchema.parse(await again.json())).toEqual(created);
      // A new fork of it is refused as before: the source is gone from the editor's sight.
      expect(await errorOf(await createRaw(t, editor, reportId, { ...body, id: randomUUID() }))).toEqual([404, 'not_found']);
    }
  });
});

describe('forking', () => {
  it('copies messages 1..seq exactly, with new ids and copiedFrom, and leaves the source as it was', async () => {
    const { owner, editor, reportId, mainId } = await team();
    // A source whose answers ended in every way: complete with sources, failed, stopped, complete.
    await ask(owner, main(reportId), 'What was the root cause?');
    fake.setBehavior({ chunks: ['Half an ', 'answer', ' never sent'], failAfterChunks: 2 });
    await ask(owner, main(reportId), 'And the fix?');
    fake.setBehavior(CITING);
    const hung = await askAndHang(owner, main(reportId), 'Take your time.');
    expect((await hung.stop()).status).toBe('stopped');
    await ask(owner, main(reportId), 'One more?');
    const source = (await page(owner, main(reportId))).messages;
    expect(source.map((m) => [m.seq, m.role, m.status])).toEqual([
      [1, 'user', 'complete'],
      [2, 'assistant', 'complete'],
      [3, 'user', 'complete'],
      [4, 'assistant', 'failed'],
      [5, 'user', 'complete'],
      [6, 'assistant', 'stopped'],
      [7, 'user', 'complete'],
      [8, 'assistant', 'complete'],
    ]);
    expect(source[1]!.sources.length).toBeGreaterThan(0);

    const before = await storedState(mainId);
    const forked = await fork(editor, reportId, mainId, 6);
    expect(await storedState(mainId)).toEqual(before);

    expect(forked).toMatchObject({
      title: 'Main conversation (branch)',
      createdBy: editor.id,
      forkedFrom: { conversationId: mainId, seq: 6 },
      version: 6,
      messageCount: 6,
      lastSeq: 6,
    });
    const copies = (await page(editor, conv(forked.id))).messages;
    expect(copies.map(copiedFields)).toEqual(source.slice(0, 6).map(copiedFields));
    const sourceIds = new Set(source.map((m) => m.id));
    for (const [i, copy] of copies.entries()) {
      expect(sourceIds.has(copy.id)).toBe(false);
      expect(copy.conversationId).toBe(forked.id);
      expect(copy.copiedFrom).toBe(source[i]!.id);
      // An answer replies to its question's copy; a question replies to nothing.
      expect(copy.replyTo).toBe(copy.role === 'assistant' ? copies[i - 1]!.id : null);
    }
    expect(new Set(copies.map((c) => c.id)).size).toBe(6);
  });

  it('seq 0 makes an empty fork; a seq that does not end a turn, or lies beyond the end, is 400 and creates nothing', async () => {
    const { owner, reportId, mainId } = await team();
    await ask(owner, main(reportId), 'First?');
    await ask(owner, main(reportId), 'Second?');
    const empty = await fork(owner, reportId, mainId, 0);
    expect(empty).toMatchObject({ forkedFrom: { conversationId: mainId, seq: 0 }, version: 0, messageCount: 0, lastSeq: 0 });
    expect((await page(owner, conv(empty.id))).messages).toEqual([]);
    expect((await ask(owner, conv(empty.id), 'Afresh?')).userMessage.seq).toBe(1);

    const before = await list(owner, reportId);
    for (const seq of [1, 3, 5, 6, 1_000]) {
      const res = await createRaw(t, owner, reportId, { forkFrom: { conversationId: mainId, seq } });
      expect(await errorOf(res), `seq ${seq}`).toEqual([400, 'invalid_request']);
    }
    for (const seq of [-1, 2.5, '2']) {
      expect((await createRaw(t, owner, reportId, { forkFrom: { conversationId: mainId, seq } })).status).toBe(400);
    }
    // A conversation of another report is not there to fork.
    const other = await t.createReport(owner.token);
    expect(await errorOf(await createRaw(t, owner, other, { forkFrom: { conversationId: mainId, seq: 2 } }))).toEqual([404, 'not_found']);
    expect(await list(owner, reportId)).toEqual(before);
  });

  it('while an answer up to seq streams, the fork is 409 conversation_busy; an earlier prefix forks meanwhile', async () => {
    const { owner, editor, reportId } = await team();
    const source = await create(owner, reportId, { title: 'Busy' });
    await ask(owner, conv(source.id), 'First?');
    const hung = await askAndHang(owner, conv(source.id), 'Second?');
    expect(hung.answer).toMatchObject({ seq: 4, status: 'streaming' });

    expect(await errorOf(await createRaw(t, editor, reportId, { forkFrom: { conversationId: source.id, seq: 4 } }))).toEqual([409, 'conversation_busy']);
    const before = await storedState(source.id);
    const early = await fork(editor, reportId, source.id, 2);
    expect(await storedState(source.id)).toEqual(before);
    expect((await page(editor, conv(early.id))).messages.map(copiedFields)).toEqual(
      (await page(owner, conv(source.id))).messages.slice(0, 2).map(copiedFields),
    );
    // The source's delete is refused while it is busy too.
    const deleting = await t.request(conv(source.id), { method: 'DELETE', token: owner.token, headers: { 'if-match': `"${before.conversation!.version}"` } });
    expect(await errorOf(deleting)).toEqual([409, 'conversation_busy']);

    const stopped = await hung.stop();
    const late = await fork(editor, reportId, source.id, 4);
    const copies = (await page(editor, conv(late.id))).messages;
    expect(copies.map((m) => [m.seq, m.status])).toEqual([
      [1, 'complete'],
      [2, 'complete'],
      [3, 'complete'],
      [4, 'stopped'],
    ]);
    expect(copies[3]!.content).toBe(stopped.content);
  });

  it('a fork of a fork copies from the fork; copiedFrom still names the first original', async () => {
    const { owner, reportId, mainId } = await team();
    await ask(owner, main(reportId), 'First?');
    await ask(owner, main(reportId), 'Second?');
    const first = await fork(owner, reportId, mainId, 4);
    await ask(owner, conv(first.id), 'Third, in the fork?');
    const second = await fork(owner, reportId, first.id, 6, { title: 'Twice removed' });
    expect(second).toMatchObject({ title: 'Twice removed', forkedFrom: { conversationId: first.id, seq: 6 }, messageCount: 6 });

    const original = (await page(owner, main(reportId))).messages;
    const middle = (await page(owner, conv(first.id))).messages;
    const copies = (await page(owner, conv(second.id))).messages;
    expect(copies.map(copiedFields)).toEqual(middle.map(copiedFields));
    expect(copies.map((c) => c.copiedFrom)).toEqual([...original.slice(0, 4).map((m) => m.id), middle[4]!.id, middle[5]!.id]);
    expect(copies.slice(0, 4).map((c) => c.id)).not.toEqual(middle.slice(0, 4).map((m) => m.id));
  });
});

describe('sending into a fork', () => {
  it('continues at seq+1, and the model is given the copied history and nothing after the fork point', async () => {
    const { owner, editor, reportId, mainId } = await team();
    fake.setBehavior({ chunks: ['Answer one: the payment provider.'] });
    await ask(owner, main(reportId), 'Question one: the root cause?');
    fake.setBehavior({ chunks: ['Answer two: not copied.'] });
    await ask(owner, main(reportId), 'Question two: not copied?');
    fake.setBehavior(CITING);
    const forked = await fork(editor, reportId, mainId, 2);
    const sourceBefore = await storedState(mainId);

    const requestsBefore = fake.requests.length;
    const turn = await ask(editor, conv(forked.id), 'Question three: in the fork?');
    expect(turn.userMessage).toMatchObject({ seq: 3, conversationId: forked.id });
    expect(turn.assistantMessage).toMatchObject({ seq: 4, status: 'complete', replyTo: turn.userMessage.id });
    // One turn of history: the copied question and its answer.
    expect(turn.assistantMessage.context?.historyTurns).toBe(1);

    expect(fake.requests.length).toBe(requestsBefore + 1);
    const sent = JSON.stringify(fake.requests.at(-1)!.body.messages);
    for (const words of ['Question one: the root cause?', 'Answer one: the payment provider.', 'Question three: in the fork?']) expect(sent).toContain(words);
    for (const words of ['Question two', 'Answer two']) expect(sent).not.toContain(words);

    expect((await page(editor, conv(forked.id))).messages.map((m) => [m.seq, m.role])).toEqual([
      [1, 'user'],
      [2, 'assistant'],
      [3, 'user'],
      [4, 'assistant'],
    ]);
    expect(await storedState(mainId)).toEqual(sourceBefore);
  });
});

describe('renaming, unsharing and deleting', () => {
  it("PATCH renames; made private, other members' open streams on it end and the creator's stays; main stays shared", async () => {
    const { owner, editor, viewer, reportId } = await team();
    const c = await create(editor, reportId, { title: 'Draft' });
    const renamed = await t.request(conv(c.id), { method: 'PATCH', token: editor.token, json: { title: 'Pool sizing' } });
    expect(renamed.status).toBe(200);
    expect(conversationSchema.parse(await renamed.json())).toMatchObject({ id: c.id, title: 'Pool sizing', visibility: 'shared', version: 0 });
    expect(await errorOf(await t.request(conv(c.id), { method: 'PATCH', token: viewer.token, json: { title: 'Mine' } }))).toEqual([403, 'forbidden']);

    const viewerStream = await openEvents(viewer, conv(c.id));
    const ownerStream = await openEvents(owner, conv(c.id));
    const editorStream = await openEvents(editor, conv(c.id));
    const hidden = await t.request(conv(c.id), { method: 'PATCH', token: editor.token, json: { visibility: 'private' } });
    expect(conversationSchema.parse(await hidden.json()).visibility).toBe('private');
    expect(await ends(viewerStream)).toBe(true);
    expect(await ends(ownerStream)).toBe(true);
    const turn = await ask(editor, conv(c.id), 'Still here?');
    expect((await nextMessage(editorStream, (m) => m.id === turn.userMessage.id))?.message.content).toBe('Still here?');
    await editorStream.stop();
    expect(await errorOf(await t.request(conv(c.id), { token: viewer.token }))).toEqual([404, 'not_found']);
    expect(await errorOf(await t.request(`${conv(c.id)}/events`, { token: owner.token }))).toEqual([404, 'not_found']);

    const mainId = (await list(owner, reportId)).find((x) => x.isMain)!.id;
    expect(await errorOf(await t.request(conv(mainId), { method: 'PATCH', token: owner.token, json: { visibility: 'private' } }))).toEqual([400, 'invalid_request']);
    expect(await errorOf(await t.request(conv(mainId), { method: 'PATCH', token: editor.token, json: { title: 'Ours' } }))).toEqual([403, 'forbidden']);
    const mainRenamed = await t.request(conv(mainId), { method: 'PATCH', token: owner.token, json: { title: 'Main thread' } });
    expect(conversationSchema.parse(await mainRenamed.json())).toMatchObject({ isMain: true, visibility: 'shared', title: 'Main thread' });
  });

  it('DELETE needs If-Match (428), refuses a stale one (412), the main one (403), a busy one (409); then 404, its streams end, forks keep their copies', async () => {
    const { owner, editor, viewer, reportId, mainId } = await team();
    const c = await create(editor, reportId, { title: 'Doomed' });
    await ask(editor, conv(c.id), 'Anything?');
    const keeper = await fork(owner, reportId, c.id, 2);
    const kept = (await page(owner, conv(keeper.id))).messages;
    const del = (id: string, user: User, ifMatch?: string) =>
      t.request(conv(id), { method: 'DELETE', token: user.token, headers: ifMatch === undefined ? {} : { 'if-match': ifMatch } });

    expect(await errorOf(await del(c.id, editor))).toEqual([428, 'precondition_required']);
    expect(await errorOf(await del(c.id, editor, '"2"'))).toEqual([412, 'precondition_failed']);
    expect(await errorOf(await del(c.id, viewer, '"3"'))).toEqual([403, 'forbidden']);
    expect(await errorOf(await del(mainId, owner, '"0"'))).toEqual([403, 'forbidden']);
    const hung = await askAndHang(editor, conv(c.id), 'Slowly?');
    expect(await errorOf(await del(c.id, editor, '"5"'))).toEqual([409, 'conversation_busy']);
    await hung.stop();
    const version = (await page(editor, conv(c.id))).version;
    expect(version).toBe(6);

    const streams = [await openEvents(editor, conv(c.id)), await openEvents(viewer, conv(c.id))];
    expect((await del(c.id, editor, `"${version}"`)).status).toBe(204);
    for (const stream of streams) expect(await ends(stream)).toBe(true);
    expect(await errorOf(await t.request(conv(c.id), { token: editor.token }))).toEqual([404, 'not_found']);
    expect(await errorOf(await t.request(`${conv(c.id)}/messages`, { token: editor.token }))).toEqual([404, 'not_found']);
    expect(await errorOf(await del(c.id, editor, `"${version}"`))).toEqual([404, 'not_found']);
    expect((await list(editor, reportId)).map((x) => x.id)).not.toContain(c.id);
    const [left] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM messages WHERE conversation_id = ${c.id}`;
    expect(left!.n).toBe(0);

    // A fork outlives its source, and still says where it came from.
    expect((await page(owner, conv(keeper.id))).messages).toEqual(kept);
    expect(conversationSchema.parse(await (await t.request(conv(keeper.id), { token: owner.token })).json()).forkedFrom).toEqual({ conversationId: c.id, seq: 2 });
  });
});

describe('limits', () => {
  it(`at most ${MAX_CONVERSATIONS} conversations per person and report (409 conversation_limit); a replay still answers`, async () => {
    const { owner, editor, reportId, mainId } = await team();
    await ask(owner, main(reportId), 'Something to fork?');
    const mine: Conversation[] = [];
    const firstBody = { id: randomUUID(), title: 'One' };
    mine.push(conversationSchema.parse(await (await createRaw(t, owner, reportId, firstBody)).json()));
    mine.push(await create(owner, reportId, { visibility: 'private' }));
    mine.push(await fork(owner, reportId, mainId, 2));
    mine.push(await fork(owner, reportId, mainId, 0));
    const count = async () => (await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM conversations WHERE report_id = ${reportId}`)[0]!.n;
    expect(await count()).toBe(MAX_CONVERSATIONS + 1);

    expect(await errorOf(await createRaw(t, owner, reportId, { title: 'Too many' }))).toEqual([409, 'conversation_limit']);
    expect(await errorOf(await createRaw(t, owner, reportId, { forkFrom: { conversationId: mainId, seq: 2 } }))).toEqual([409, 'conversation_limit']);
    expect(await count()).toBe(MAX_CONVERSATIONS + 1);
    const replay = await createRaw(t, owner, reportId, firstBody);
    expect(replay.status).toBe(200);
    expect(conversationSchema.parse(await replay.json()).id).toBe(mine[0]!.id);
    // Per person and report: another member, and the same person in another report, are not held back.
    await create(editor, reportId);
    await create(owner, await t.createReport(owner.token));
    // Deleting one makes room for one, however many ask for it at once.
    expect((await t.request(conv(mine[1]!.id), { method: 'DELETE', token: owner.token, headers: { 'if-match': '"0"' } })).status).toBe(204);
    const racing = await Promise.all(
      [0, 2, 0].map((seq) => createRaw(t, owner, reportId, { forkFrom: { conversationId: mainId, seq } }).then((r) => r.status)),
    );
    expect(racing.sort()).toEqual([201, 409, 409]);
    expect(await count()).toBe(MAX_CONVERSATIONS + 2);
  });

  it('MAX_MESSAGES_PER_CONVERSATION counts the copies of a fork', async () => {
    const small = await createTestApp(db, { ...llmEnv, MAX_MESSAGES_PER_CONVERSATION: '6' });
    try {
      const owner = await small.createUser();
      const reportId = await small.createReport(owner.token);
      const mainId = (await db.sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${reportId}`)[0]!.id;
      await ask(owner, main(reportId), 'One?', small);
      await ask(owner, main(reportId), 'Two?', small);
      const res = await createRaw(small, owner, reportId, { forkFrom: { conversationId: mainId, seq: 4 } });
      const forked = conversationSchema.parse(await res.json());
      expect(forked.messageCount).toBe(4);
      await ask(owner, conv(forked.id), 'Three, in the fork?', small);
      const full = await small.request(`${conv(forked.id)}/messages`, { method: 'POST', token: owner.token, json: { content: 'Four?' }, headers: { accept: 'application/json' } });
      expect(await errorOf(full)).toEqual([409, 'conversation_full']);
      expect((await small.request(`${conv(forked.id)}/messages`, { token: owner.token }).then((r) => r.json()) as { messages: unknown[] }).messages).toHaveLength(6);
      // The source has room of its own.
      await ask(owner, main(reportId), 'Three, in the source?', small);
    } finally {
      await small.close();
    }
  });

  it('the turn rate limits count every conversation of a person together', async () => {
    const limited = await createTestApp(db, { ...llmEnv, RATE_LIMIT_PER_HOUR: '3' });
    try {
      const owner = await limited.createUser();
      const reportId = await limited.createReport(owner.token);
      const other = await limited.createReport(owner.token);
      const [a, b] = await Promise.all(
        [reportId, other].map(async (r) => conversationSchema.parse(await (await createRaw(limited, owner, r, { id: randomUUID() })).json())),
      );
      const firstId = randomUUID();
      const send = (at: string, id = randomUUID()) =>
        limited.request(`${at}/messages`, { method: 'POST', token: owner.token, json: { id, content: 'Counted?' }, headers: { accept: 'application/json' } });
      expect((await send(main(reportId), firstId)).status).toBe(201);
      expect((await send(conv(a!.id))).status).toBe(201);
      expect((await send(conv(b!.id))).status).toBe(201);
      for (const at of [main(reportId), conv(a!.id), conv(b!.id), main(other)]) {
        const refused = await send(at);
        expect(await errorOf(refused)).toEqual([429, 'rate_limited']);
      }
      expect((await send(main(reportId), firstId)).status).toBe(200);
      const [stored] = await db.sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.report_id IN (${reportId}, ${other})`;
      expect(stored!.n).toBe(6);
    } finally {
      await limited.close();
    }
  });
});

describe('export and live updates', () => {
  it("exports a conversation: JSON names it, Markdown is titled with the report's and its own title", async () => {
    const { owner, viewer, reportId, mainId } = await team();
    await ask(owner, main(reportId), 'What was the root cause?');
    const forked = await fork(owner, reportId, mainId, 2, { title: 'Side question' });
    const json = await t.request(`${conv(forked.id)}/export?format=json`, { token: viewer.token });
    expect(json.status).toBe(200);
    expect(json.headers.get('content-disposition')).toBe(`attachment; filename="conversation-${forked.id}.json"`);
    const body = conversationExportSchema.parse(await json.json());
    expect(body.conversation).toEqual({ id: forked.id, title: 'Side question', isMain: false });
    expect(body.report).toEqual({ id: reportId, title: 'Connection pool incident' });
    expect(body.version).toBe(2);
    expect(body.messages).toEqual((await page(owner, conv(forked.id))).messages);

    const md = await t.request(`${conv(forked.id)}/export?format=markdown`, { token: viewer.token });
    expect(md.headers.get('content-disposition')).toBe(`attachment; filename="conversation-${forked.id}.md"`);
    const text = await md.text();
    expect(text.split('\n')[0]).toBe('# Connection pool incident: Side question');
    expect(text).toContain('What was the root cause?');

    const mainExport = conversationExportSchema.parse(await (await t.request(`${main(reportId)}/export?format=json`, { token: owner.token })).json());
    expect(mainExport.conversation).toEqual({ id: mainId, title: 'Main conversation', isMain: true });
  });

  it('the events stream of a fork from Last-Event-ID 0 replays the copies in seq order, then goes on live', async () => {
    const { owner, viewer, reportId, mainId } = await team();
    await ask(owner, main(reportId), 'First?');
    await ask(owner, main(reportId), 'Second?');
    const forked = await fork(owner, reportId, mainId, 4);
    const copies = (await page(owner, conv(forked.id))).messages;
    const stream = await openEvents(viewer, conv(forked.id), 0);
    const replayed: { version: number; message: Message }[] = [];
    for (let i = 0; i < 4; i++) replayed.push((await nextMessage(stream, () => true))!);
    expect(replayed.map((r) => [r.version, r.message.seq])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
    expect(replayed.map((r) => r.message)).toEqual(copies);
    const turn = await ask(owner, conv(forked.id), 'Third?');
    const live = await nextMessage(stream, (m) => m.id === turn.userMessage.id);
    expect(live).toMatchObject({ version: 5, message: { seq: 5, content: 'Third?' } });
    await stream.stop();
  });

  it("removing a member closes that member's streams on every conversation of the report, and only theirs", async () => {
    const { owner, editor, viewer, reportId } = await team();
    const shared = await create(owner, reportId, { title: 'Shared' });
    const own = await create(editor, reportId, { title: 'Own', visibility: 'private' });
    const gone = [await openEvents(editor, main(reportId)), await openEvents(editor, conv(shared.id)), await openEvents(editor, conv(own.id))];
    const staying = await openEvents(viewer, conv(shared.id));
    expect((await t.request(`${main(reportId)}/members/${editor.id}`, { method: 'DELETE', token: owner.token })).status).toBe(204);
    for (const stream of gone) expect(await ends(stream)).toBe(true);
    const turn = await ask(owner, conv(shared.id), 'Still with us?');
    expect(await nextMessage(staying, (m) => m.id === turn.userMessage.id)).toBeDefined();
    await staying.stop();
    expect(await errorOf(await t.request(conv(own.id), { token: editor.token }))).toEqual([404, 'not_found']);
  });
});

describe('forks under concurrency', () => {
  it('32 forks at once of a conversation that is receiving turns each hold an exact prefix of it, and the source is unchanged by them', async () => {
    // The default limit of conversations per person (200), not this file's small one.
    const wide = await createTestApp(db, llmEnv);
    try {
      const { owner, editor, reportId, mainId } = await team();
      for (let i = 0; i < 4; i++) await ask(owner, main(reportId), `Question ${i}?`, wide);
      const sending = Array.from({ length: 8 }, (_, i) => ask(i % 2 ? editor : owner, main(reportId), `More ${i}?`, wide));
      const forks = Array.from({ length: 32 }, async (_, i) => {
        // Half fork a prefix that ended before, half the newest answer that has ended when they ask.
        let seq = 2 * (1 + (i % 4));
        if (i >= 16) {
          await sleep((i - 16) * 25);
          const now = (await page(owner, main(reportId))).messages;
          seq = Math.max(...now.filter((m) => m.role === 'assistant' && m.status === 'complete').map((m) => m.seq));
        }
        const res = await createRaw(wide, i % 2 ? editor : owner, reportId, { id: randomUUID(), forkFrom: { conversationId: mainId, seq } });
        expect(res.status, await res.clone().text()).toBe(201);
        return { seq, conversation: conversationSchema.parse(await res.json()) };
      });
      const made = await Promise.all(forks);
      await Promise.all(sending);

      const source = (await page(owner, main(reportId))).messages;
      expect(source.map((m) => m.seq)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
      expect(new Set(made.map((f) => f.seq)).size).toBeGreaterThan(4);
      for (const { seq, conversation } of made) {
        const copies = (await page(owner, conv(conversation.id))).messages;
        expect(copies.map(copiedFields), `the fork at ${seq}`).toEqual(source.filter((m) => m.seq <= seq).map(copiedFields));
        expect(copies.map((m) => m.copiedFrom)).toEqual(source.filter((m) => m.seq <= seq).map((m) => m.id));
        expect(conversation).toMatchObject({ messageCount: seq, lastSeq: seq, version: seq });
      }
      // The source: its 24 messages in order, each once, none of them a copy.
      expect(source.every((m) => m.copiedFrom === null && m.conversationId === mainId)).toBe(true);
      expect(new Set(source.map((m) => m.id)).size).toBe(24);
    } finally {
      await wide.close();
    }
  }, 60_000);
});
