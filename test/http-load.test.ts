import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAll } from '../src/store/history.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestApp, readSse, type TestApp } from './support/test-app.js';

let db: TestDatabase;
let t: TestApp;
beforeAll(async () => {
  db = await createTestDatabase({ max: 30 });
  t = await createTestApp(db, { LOCAL_MODEL_CHUNK_DELAY_MS: '1' });
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

type StreamEvent = { type: string; [k: string]: unknown };
const savedOf = (events: StreamEvent[]) =>
  events.find((e) => e.type === 'data-saved')?.data as { saved: boolean; message: { id: string; content: string; status: string } } | undefined;

describe('many clients on one report', () => {
  it('24 clients x 10 messages, a third re-sending their id mid-answer: exactly 240 turns, all complete, seqs 1..480', async () => {
    const { token } = await t.createUser();
    const reportId = await t.createReport(token);
    const post = (id: string, content: string) =>
      t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { id, content } });
    const replays: Array<{ original: string; replay: string; replayText: string; replayContent: string }> = [];

    await Promise.all(
      Array.from({ length: 24 }, async (_, client) => {
        for (let i = 0; i < 10; i++) {
          const id = randomUUID();
          const first = readSse(await post(id, `client ${client} message ${i}: what was the root cause?`));
          await first.next(); // start
          await first.next(); // data-turn: the turn is committed
          if (client % 3 === 0) {
            const replayRes = await post(id, `client ${client} message ${i}: what was the root cause?`);
            expect(replayRes.headers.get('idempotent-replayed')).toBe('true');
            const [a, b] = (await Promise.all([first.all(60_000), readSse(replayRes).all(60_000)])) as [StreamEvent[], StreamEvent[]];
            const replayText = b.filter((e) => e.type === 'text-delta').map((e) => e.delta).join('');
            replays.push({ original: savedOf(a)!.message.id, replay: savedOf(b)!.message.id, replayText, replayContent: savedOf(b)!.message.content });
          } else {
            const events = (await first.all(60_000)) as StreamEvent[];
            expect(savedOf(events)?.saved).toBe(true);
          }
        }
      }),
    );

    const [conv] = await db.sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${reportId}`;
    const { messages } = await readAll(db.sql, conv!.id);
    expect(messages).toHaveLength(480);
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 480 }, (_, i) => i + 1));
    const users = messages.filter((m) => m.role === 'user');
    expect(new Set(users.map((m) => m.content)).size).toBe(240);
    for (let i = 0; i < 480; i += 2) {
      expect(messages[i + 1]!.replyTo).toBe(messages[i]!.id);
      expect(messages[i + 1]!.status).toBe('complete');
    }
    expect(replays).toHaveLength(80);
    for (const r of replays) {
      expect(r.replay).toBe(r.original);
      expect(r.replayText).toBe(r.replayContent);
    }
  });
});
