import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusEvent } from '../src/chat/bus.js';
import { sendMessage } from '../src/chat/send-message.js';
import { stopAnswer } from '../src/chat/stop-answer.js';
import { reserveTurn } from '../src/store/turns.js';
import type { MessageRow } from '../src/store/types.js';
import { isTerminal } from '../src/store/types.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestApp, SAMPLE_REPORT, type TestApp } from './support/test-app.js';

let db: TestDatabase;
let t: TestApp;
beforeAll(async () => {
  db = await createTestDatabase();
  t = await createTestApp(db, { LOCAL_MODEL_CHUNK_DELAY_MS: '2' });
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

describe('the answer queue of a conversation', () => {
  it('queued answers start in seq order, each only after the one before it is terminal', async () => {
    const user = await t.createUser();
    const reportId = await t.createReport(user.token);
    const caller = { id: user.id, email: 'x', name: null };
    const changes: MessageRow[] = [];
    const [conv] = await db.sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${reportId}`;
    const unsubscribe = t.ctx.bus.subscribe(conv!.id, (e: BusEvent) => {
      if (e.type === 'message' && e.message.role === 'assistant') changes.push(e.message);
    });
    const turns = await Promise.all(
      Array.from({ length: 8 }, (_, i) => sendMessage(t.ctx, caller, { where: { reportId }, messageId: randomUUID(), content: `question ${i} about the root cause` })),
    );
    const outcomes = await Promise.all(turns.map(async (turn) => (await turn.follow(() => {})).done));
    unsubscribe();

    expect(outcomes.every((o) => o.saved && o.message.status === 'complete')).toBe(true);
    // Read the bus log in commit (version) order: every "streaming" of answer k comes after the terminal of k-1.
    const ordered = [...changes].sort((a, b) => a.changedVersion - b.changedVersion);
    const startedAt = new Map(ordered.filter((m) => m.status === 'streaming').map((m) => [m.seq, m.changedVersion]));
    const endedAt = new Map(ordered.filter((m) => isTerminal(m.status)).map((m) => [m.seq, m.changedVersion]));
    const seqs = [...startedAt.keys()].sort((a, b) => a - b);
    expect(seqs).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
    // The first answer had nothing ahead of it: its reserve created it streaming (its first event), at the version
    // right after its question's. The others were created queued behind it (or streaming, if all before had ended).
    const first = ordered.find((m) => m.seq === 2)!;
    expect(first.status).toBe('streaming');
    expect(startedAt.get(2)).toBe(turns.find((turn) => turn.assistantMessage.seq === 2)!.userMessage.changedVersion + 1);
    for (let i = 1; i < seqs.length; i++) {
      expect(startedAt.get(seqs[i]!)!).toBeGreaterThan(endedAt.get(seqs[i - 1]!)!);
    }
  });
});

describe('an answer started in its reserve', () => {
  it('a stop sent between the reserve commit and its owner listening for stops still stops it', async () => {
    const slow = await createTestApp(db, { LOCAL_MODEL_CHUNK_DELAY_MS: '20' });
    try {
      const user = await slow.createUser();
      const reportId = await slow.createReport(user.token);
      const caller = { id: user.id, email: 'x', name: null };
      const [conv] = await db.sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${reportId}`;
      // What sendMessage does, cut in two: the reserve has committed the answer as streaming under this instance's
      // lease, but the instance has not yet handed it to its engine (its acknowledgement is still on its way)...
      const reserved = await reserveTurn(slow.ctx.sql, {
        conversationId: conv!.id,
        userMessageId: randomUUID(),
        assistantMessageId: randomUUID(),
        content: 'What was the root cause?',
        maxMessages: 1_000,
        leaseOwner: slow.ctx.instanceId,
        leaseMs: slow.ctx.config.turnLeaseMs,
        start: { model: slow.ctx.engine.modelId },
      });
      expect(reserved.assistantMessage.status).toBe('streaming');
      // ...when a stop arrives: it finds the answer streaming and asks its owner, who is not listening yet.
      const stopping = stopAnswer(slow.ctx, caller, { where: { reportId }, messageId: reserved.userMessage.id });
      await sleep(300);
      const live = slow.ctx.engine.start({
        conversationId: conv!.id,
        reportId,
        reportTitle: 'Connection pool incident',
        reportRevision: 1,
        reportContent: SAMPLE_REPORT,
        question: reserved.userMessage.content,
        assistant: reserved.assistantMessage,
      });
      const outcome = await live.done;
      const stopped = await stopping;
      expect(outcome.saved).toBe(true);
      expect(outcome.message.status).toBe('stopped');
      expect(stopped.message).toMatchObject({ id: reserved.assistantMessage.id, status: 'stopped' });
    } finally {
      await slow.close();
    }
  });
});

describe('a graceful shutdown', () => {
  it('saves the answer in progress as interrupted with its text, and ends its queued answers at once, not at lease expiry', async () => {
    // A long lease: an answer ended by the sweep instead of the shutdown would still be queued when we look.
    const app = await createTestApp(db, { LOCAL_MODEL_CHUNK_DELAY_MS: '30', TURN_LEASE_MS: '600000' });
    const user = await app.createUser();
    const reportId = await app.createReport(user.token);
    const caller = { id: user.id, email: 'x', name: null };
    const first = await sendMessage(app.ctx, caller, { where: { reportId }, messageId: randomUUID(), content: 'What was the root cause?' });
    const second = await sendMessage(app.ctx, caller, { where: { reportId }, messageId: randomUUID(), content: 'And what should we do first?' });
    expect(first.assistantMessage.status).toBe('streaming');
    expect(second.assistantMessage.status).toBe('queued');
    const following = await first.follow(() => {});
    const waiting = await second.follow(() => {});
    // Let the first answer produce some text.
    for (let i = 0; i < 100 && app.ctx.engine.liveTurn(first.assistantMessage.id)!.text.length === 0; i++) await sleep(20);

    await app.close(); // stops the engine as a SIGTERM does after its grace period
    const [a, b] = [await following.done, await waiting.done];
    expect(a).toMatchObject({ saved: true, message: { status: 'interrupted' } });
    expect(a.message.content.length).toBeGreaterThan(0);
    expect(b).toMatchObject({ saved: true, message: { status: 'interrupted', content: '' } });
    const rows = await db.sql<{ seq: number; status: string; leaseOwner: string | null }[]>`
      SELECT seq, status, lease_owner FROM messages WHERE id IN (${first.assistantMessage.id}, ${second.assistantMessage.id})
      ORDER BY seq`;
    expect(rows).toEqual([
      { seq: 2, status: 'interrupted', leaseOwner: null },
      { seq: 4, status: 'interrupted', leaseOwner: null },
    ]);
  });
});
