import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusEvent } from '../src/chat/bus.js';
import { sendMessage } from '../src/chat/send-message.js';
import type { MessageRow } from '../src/store/types.js';
import { isTerminal } from '../src/store/types.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestApp, type TestApp } from './support/test-app.js';

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
      Array.from({ length: 8 }, (_, i) => sendMessage(t.ctx, caller, { reportId, messageId: randomUUID(), content: `question ${i} about the root cause` })),
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
    for (let i = 1; i < seqs.length; i++) {
      expect(startedAt.get(seqs[i]!)!).toBeGreaterThan(endedAt.get(seqs[i - 1]!)!);
    }
  });
});
