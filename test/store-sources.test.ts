import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../src/store/db.js';
import { readAll, readChangesAfter, readPage } from '../src/store/history.js';
import { readReportRevision, updateReport } from '../src/store/reports.js';
import { checkpointAnswer } from '../src/store/checkpoints.js';
import { finishAnswer, INTERRUPTED_ERROR, reserveTurn, sweepExpiredLeases } from '../src/store/turns.js';
import type { StoredContext, StoredSource } from '../src/store/types.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { SAMPLE_REPORT, seedReport, turnInput } from './support/fixtures.js';

/**
 * An answer's evidence (its sources, what it was given, the report revision) is stored in the same call as its
 * final text, whatever its status; a report's content is versioned, every revision kept, in the statement that
 * changes it.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** A verified source of `content`: the quote is exactly the slice its offsets name. */
function sourceOf(content: string, n: number, quote: string, heading: string): StoredSource {
  const start = content.indexOf(quote);
  if (start < 0) throw new Error(`not in the report: ${quote}`);
  return { n, start, end: start + quote.length, quote, heading };
}

const CONTEXT: StoredContext = { reportChars: SAMPLE_REPORT.length, sentChars: SAMPLE_REPORT.length, passages: 4, totalPassages: 4, historyTurns: 0 };

async function streamingAnswer(sql: Sql, content = SAMPLE_REPORT) {
  const seeded = await seedReport(sql, content);
  const r = await reserveTurn(sql, turnInput(seeded.conversationId, { leaseOwner: 'owner-a' }));
  return { ...seeded, seq: r.assistantMessage.seq, answerId: r.assistantMessage.id };
}

describe('an answer with its sources', () => {
  it('stores sources, context, revision and every token count with the final text, in one versioned change', async () => {
    const { conversationId, seq } = await streamingAnswer(db.sql);
    const sources = [
      sourceOf(SAMPLE_REPORT, 1, 'the PostgreSQL connection pool was exhausted', 'Connection pool incident › Summary'),
      sourceOf(SAMPLE_REPORT, 2, 'Move external calls out of transactions.', 'Connection pool incident › Recommendations'),
    ];
    const finished = await finishAnswer(db.sql, {
      conversationId,
      seq,
      owner: 'owner-a',
      status: 'complete',
      content: 'The pool ran dry [1]; move the calls out [2].',
      error: null,
      inputTokens: 900,
      outputTokens: 40,
      cacheReadTokens: 800,
      cacheWriteTokens: 100,
      sources,
      context: CONTEXT,
      reportRevision: 1,
    });
    expect(finished.applied).toBe(true);
    expect(finished.message).toMatchObject({
      sources,
      context: CONTEXT,
      reportRevision: 1,
      inputTokens: 900,
      outputTokens: 40,
      cacheReadTokens: 800,
      cacheWriteTokens: 100,
      changedVersion: 3,
    });
    const page = await readPage(db.sql, conversationId, { limit: 10 });
    expect(page.messages.map((m) => m.sources)).toEqual([[], sources]);
    expect(page.messages.map((m) => m.context)).toEqual([null, CONTEXT]);
    expect(page.messages.map((m) => m.reportRevision)).toEqual([null, 1]);
    const changes = await readChangesAfter(db.sql, conversationId, 2);
    expect(changes.messages).toHaveLength(1);
    expect(changes.messages[0]).toMatchObject({ sources, context: CONTEXT, reportRevision: 1 });
    for (const s of page.messages[1]!.sources) expect(SAMPLE_REPORT.slice(s.start, s.end)).toBe(s.quote);
  });

  it('a stopped answer keeps the sources of its partial text; a finish that does not apply stores none of it', async () => {
    const { conversationId, seq } = await streamingAnswer(db.sql);
    const sources = [sourceOf(SAMPLE_REPORT, 1, 'answered in 30 seconds instead of 300 ms', 'Connection pool incident › Root cause')];
    const notOurs = await finishAnswer(db.sql, {
      conversationId, seq, owner: 'owner-b', status: 'complete', content: 'x [1]', error: null, sources, context: CONTEXT, reportRevision: 1,
    });
    expect(notOurs.applied).toBe(false);
    expect(notOurs.message).toMatchObject({ status: 'streaming', sources: [], context: null, reportRevision: null });

    const stopped = await finishAnswer(db.sql, {
      conversationId, seq, owner: 'owner-a', status: 'stopped', content: 'The provider was slow [1]', error: null, sources, context: CONTEXT, reportRevision: 1,
    });
    expect(stopped).toMatchObject({ applied: true, message: { status: 'stopped', sources, reportRevision: 1 } });
    expect((await readAll(db.sql, conversationId)).messages[1]).toMatchObject({ status: 'stopped', sources });
  });

  it('a checkpoint saves the sources so far, so an answer the sweeper ends keeps those of the text it keeps', async () => {
    const seeded = await seedReport(db.sql);
    const r = await reserveTurn(db.sql, turnInput(seeded.conversationId, { leaseOwner: 'owner-a', leaseMs: 300 }));
    const ref = { conversationId: seeded.conversationId, seq: r.assistantMessage.seq };
    const sources = [sourceOf(SAMPLE_REPORT, 1, '47 minutes', 'Connection pool incident › Summary')];
    const first = 'Errors for 47 minutes [1]';
    expect(await checkpointAnswer(db.sql, { ...ref, owner: 'owner-a', leaseMs: 300, from: { chars: 0, sources: 0 }, text: first, sources, reportRevision: 1 })).toBe(true);
    // A later checkpoint with no new sources leaves them as they are.
    expect(await checkpointAnswer(db.sql, { ...ref, owner: 'owner-a', leaseMs: 300, from: { chars: first.length, sources: 1 }, text: ' and' })).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const swept = await sweepExpiredLeases(db.sql);
    expect(swept.find((m) => m.id === r.assistantMessage.id)).toMatchObject({
      status: 'interrupted',
      error: INTERRUPTED_ERROR,
      content: 'Errors for 47 minutes [1] and',
      sources,
      reportRevision: 1,
    });
  });
});

describe('report revisions', () => {
  it('a new report is revision 1, kept; a change of content makes the next revision, and every one stays readable', async () => {
    const { reportId } = await seedReport(db.sql, 'first');
    expect(await readReportRevision(db.sql, reportId, 1)).toBe('first');
    const second = await updateReport(db.sql, reportId, { content: 'second' });
    expect(second).toMatchObject({ content: 'second', revision: 2 });
    // Title or status alone, or the same content again, is no change of content.
    expect(await updateReport(db.sql, reportId, { title: 'Renamed' })).toMatchObject({ revision: 2 });
    expect(await updateReport(db.sql, reportId, { content: 'second', status: 'failed' })).toMatchObject({ revision: 2 });
    expect(await updateReport(db.sql, reportId, { content: 'third' })).toMatchObject({ revision: 3 });
    expect(await readReportRevision(db.sql, reportId, 1)).toBe('first');
    expect(await readReportRevision(db.sql, reportId, 2)).toBe('second');
    expect(await readReportRevision(db.sql, reportId, 3)).toBe('third');
    expect(await readReportRevision(db.sql, reportId, 4)).toBeUndefined();
  });

  it('the bump and the kept revision commit together: a rolled-back change leaves neither', async () => {
    const { reportId } = await seedReport(db.sql, 'kept');
    await expect(
      db.sql.begin(async (tx) => {
        await tx`UPDATE reports SET content = 'discarded' WHERE id = ${reportId}`;
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const [row] = await db.sql<{ revision: number; content: string }[]>`SELECT revision, content FROM reports WHERE id = ${reportId}`;
    expect(row).toEqual({ revision: 1, content: 'kept' });
    expect(await readReportRevision(db.sql, reportId, 2)).toBeUndefined();
  });

  it('concurrent changes of content each get their own revision, holding exactly their content', async () => {
    const { reportId } = await seedReport(db.sql, 'v0');
    const contents = Array.from({ length: 12 }, (_, i) => `content ${i}`);
    const results = await Promise.all(contents.map((content) => updateReport(db.sql, reportId, { content })));
    const revisions = results.map((r) => r!.revision).sort((a, b) => a - b);
    expect(revisions).toEqual(contents.map((_, i) => i + 2));
    for (const r of results) expect(await readReportRevision(db.sql, reportId, r!.revision)).toBe(r!.content);
    const [count] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM report_revisions WHERE report_id = ${reportId}`;
    expect(count!.n).toBe(contents.length + 1);
  });

  it('a writer cannot set the revision by hand: it follows the content', async () => {
    const { reportId } = await seedReport(db.sql, 'a');
    await db.sql`UPDATE reports SET revision = 40 WHERE id = ${reportId}`;
    await db.sql`UPDATE reports SET revision = 40, content = 'b' WHERE id = ${reportId}`;
    const [row] = await db.sql<{ revision: number }[]>`SELECT revision FROM reports WHERE id = ${reportId}`;
    expect(row!.revision).toBe(2);
    expect(await readReportRevision(db.sql, reportId, 2)).toBe('b');
  });
});
