import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { authenticateToken, createUserWithToken } from '../../src/chat/accounts.js';
import type { Sql } from '../../src/store/db.js';
import { readContextHistory } from '../../src/store/history.js';
import { findVisibleConversation } from '../../src/store/conversations.js';
import { createReport } from '../../src/store/reports.js';
import { countActiveBefore, finishAnswer, reserveTurn, startAnswer } from '../../src/store/turns.js';
import { createBenchDatabase } from '../lib/database.js';
import type { SuiteContext, SuiteReport } from '../lib/suite.js';
import { fmt, renderTable, type Cell } from '../lib/table.js';
import { ANSWER, appender, createApproachTables, question, seedConversations } from './append-approaches.js';

interface Plan {
  step: string;
  history: number;
  query: string;
  durationMs: number;
  topNode: string;
  rows: string;
  buffers: string;
  triggers: string[];
  text: string;
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of every statement of a turn, as the real code sends it: the store functions run on
 * a connection with auto_explain loaded (analyze, buffers, triggers, nested statements), whose plans come back as
 * notices. At 10 and at 10,000 messages of history; with the comparison approaches' statements beside them.
 */
export async function explainSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const db = await createBenchDatabase(ctx.server, 'explain', 4);
  const plans: Plan[] = [];
  try {
    await createApproachTables(db.sql);
    const { user, token } = await createUserWithToken(db.sql, { email: `explain-${randomUUID()}@example.test` });
    const conversations = new Map<number, { reportId: string; conversationId: string }>();
    for (const size of [10, 10_000]) {
      const report = await createReport(db.sql, { ownerId: user.id, title: `History ${size}`, content: '# Report', status: 'complete' });
      const [conv] = await db.sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${report.id}`;
      await fill(db.sql, conv!.id, size);
      conversations.set(size, { reportId: report.id, conversationId: conv!.id });
    }
    // Enough other conversations that the planner chooses the plans of a real database, not a scan of a tiny table.
    await seedConversations(db.sql, 2_000);
    await db.sql`VACUUM (ANALYZE)`;

    const notices: string[] = [];
    const sql = explainingConnection(db.url, notices);
    try {
      // Plans of a statement's first executions differ from the steady state (custom vs generic plans): warm up.
      for (let i = 0; i < 6; i++) await exchange(sql, conversations.get(10)!.conversationId);
      notices.length = 0;
      const step = async (name: string, history: number, work: () => Promise<unknown>) => {
        notices.length = 0;
        await work();
        for (const n of notices.splice(0)) plans.push(parsePlan(name, history, n));
      };
      await step('authenticate (API token)', 0, () => authenticateToken(sql, token));
      for (const [size, c] of conversations) {
        await step('access check (findVisibleConversation)', size, () => findVisibleConversation(sql, { reportId: c.reportId }, user.id));
        // The common path: nothing ahead, so the reserve starts the answer itself (no countActiveBefore, no
        // startAnswer); the queued path's two statements are explained after it, on the next turn, for reference.
        const reserve = (name: string, start: boolean) =>
          stepValue(step, name, size, () =>
            reserveTurn(sql, {
              conversationId: c.conversationId,
              userMessageId: randomUUID(),
              assistantMessageId: randomUUID(),
              content: question('explain'),
              maxMessages: 100_000_000,
              leaseOwner: 'explain',
              leaseMs: 60_000,
              start: start ? { model: 'bench' } : undefined,
            }),
          );
        const reserved = await reserve('reserveTurn (starts the answer)', true);
        const ref = { conversationId: c.conversationId, seq: reserved.assistantMessage.seq };
        await step('readContextHistory (400k chars)', size, () => readContextHistory(sql, c.conversationId, ref.seq - 1, 400_000));
        await step('finishAnswer', size, () =>
          finishAnswer(sql, { ...ref, owner: 'explain', status: 'complete', content: ANSWER, error: null, inputTokens: 1, outputTokens: 20 }),
        );
        const queued = await reserve('reserveTurn (queued path)', false);
        const qref = { conversationId: c.conversationId, seq: queued.assistantMessage.seq };
        await step('countActiveBefore (queued path)', size, () => countActiveBefore(sql, qref));
        await step('startAnswer (queued path)', size, () => startAnswer(sql, { ...qref, owner: 'explain', leaseMs: 60_000, model: 'bench' }));
        await finishAnswer(sql, { ...qref, owner: 'explain', status: 'complete', content: ANSWER, error: null, inputTokens: 1, outputTokens: 20 });
        await step('floor: bare 2-row INSERT', size, () => appender('floor', sql)(c.conversationId, question('explain')));
        await step('JSONB concat', size, () => appender('jsonb-concat', sql)(c.conversationId, question('explain')));
        await step('JSONB plpgsql function', size, () => appender('jsonb-function', sql)(c.conversationId, question('explain')));
      }
    } finally {
      await sql.end({ timeout: 5 });
    }
  } finally {
    await db.drop();
  }
  // The driver's own catalogue queries and transaction control are not statements of a turn.
  const shown = plans.filter((p) => !/pg_catalog\.pg_type/.test(p.query) && !/^(begin|commit|rollback)/i.test(p.query));
  const rows: Cell[][] = shown.map((p) => [p.step, p.history || '–', p.query.slice(0, 70), fmt(p.durationMs, 3), p.topNode, p.rows, p.buffers, p.triggers.join('; ') || '–']);
  return {
    suite: 'explain',
    tables: [
      {
        title: 'EXPLAIN (ANALYZE, BUFFERS) of each statement of a turn, via auto_explain (one execution each, after warm-up)',
        body: renderTable(['step', 'history', 'statement', 'ms', 'plan (top node > scan)', 'rows', 'buffers', 'triggers'], rows),
      },
    ],
    targets: [],
    data: { plans: shown },
  };
}

async function stepValue<T>(step: (name: string, history: number, work: () => Promise<unknown>) => Promise<void>, name: string, history: number, work: () => Promise<T>): Promise<T> {
  let value: T | undefined;
  await step(name, history, async () => {
    value = await work();
  });
  return value as T;
}

/** The app's connection settings (src/store/db.ts connect()) plus auto_explain, its plans sent to us as notices. */
function explainingConnection(url: string, notices: string[]): Sql {
  return postgres(url, {
    max: 1,
    onnotice: (n) => notices.push(String(n.message)),
    connection: {
      application_name: 'report-chat-bench explain',
      session_preload_libraries: 'auto_explain',
      'auto_explain.log_min_duration': '0',
      'auto_explain.log_analyze': 'on',
      'auto_explain.log_buffers': 'on',
      'auto_explain.log_triggers': 'on',
      'auto_explain.log_nested_statements': 'on',
      'auto_explain.log_level': 'notice',
    } as Record<string, string>,
    transform: { column: { from: postgres.toCamel } },
    types: {
      bigint: { to: 20, from: [20], serialize: (value: number) => String(value), parse: (value: string) => Number(value) },
    },
  }) as unknown as Sql;
}

async function exchange(sql: Sql, conversationId: string): Promise<void> {
  await appender('ours', sql)(conversationId, question('warm-up'));
}

async function fill(sql: Sql, conversationId: string, size: number): Promise<void> {
  await sql`
    INSERT INTO messages (conversation_id, seq, id, role, content, status, reply_to, changed_version)
    SELECT ${conversationId}, g, gen_random_uuid(), CASE WHEN g % 2 = 1 THEN 'user' ELSE 'assistant' END,
           CASE WHEN g % 2 = 1 THEN ${question('seed')} ELSE ${ANSWER} END, 'complete', NULL, g
    FROM generate_series(1, ${size}) g`;
  await sql`UPDATE conversations SET next_seq = ${size + 1}, version = ${size}, message_count = ${size} WHERE id = ${conversationId}`;
  await sql`
    INSERT INTO bench_jsonb_conversations (id, history)
    SELECT ${conversationId}, jsonb_agg(jsonb_build_object('id', gen_random_uuid(), 'role', CASE WHEN g % 2 = 1 THEN 'user' ELSE 'assistant' END,
             'content', CASE WHEN g % 2 = 1 THEN ${question('seed')} ELSE ${ANSWER} END, 'status', 'complete', 'createdAt', now()) ORDER BY g)
    FROM generate_series(1, ${size}) g`;
}

function parsePlan(step: string, history: number, notice: string): Plan {
  const lines = notice.split('\n');
  const durationMs = Number(/duration: ([\d.]+) ms/.exec(lines[0] ?? '')?.[1] ?? Number.NaN);
  const qStart = lines.findIndex((l) => l.startsWith('Query Text:'));
  let i = qStart + 1;
  const query = [lines[qStart]?.slice('Query Text:'.length) ?? ''];
  // The query text runs until the parameters line or the first plan node (a line with "(cost=").
  while (i < lines.length && !lines[i]!.startsWith('Query Parameters:') && !/\(cost=/.test(lines[i]!)) query.push(lines[i++]!);
  if (lines[i]?.startsWith('Query Parameters:')) i++;
  const planLines = lines.slice(i);
  const nodes = planLines.filter((l) => /\(cost=/.test(l)).map((l) => l.replace(/^\s*(->\s*)?/, '').replace(/\s+\(cost=.*$/, ''));
  const top = planLines[0] ?? '';
  const rows = /actual time=[\d.]+\.\.[\d.]+ rows=([\d.]+)/.exec(top)?.[1] ?? '?';
  const buffers = planLines.find((l) => l.trim().startsWith('Buffers:'))?.trim().replace('Buffers: ', '') ?? '–';
  const triggers = planLines.filter((l) => l.startsWith('Trigger ')).map((l) => l.replace(/^Trigger /, '').replace(/ on \w+/, ''));
  const scan = nodes.find((n) => /Scan|Result|Values|Function/.test(n) && n !== nodes[0]);
  return {
    step,
    history,
    query: query.join(' ').replace(/\s+/g, ' ').trim(),
    durationMs,
    topNode: scan ? `${nodes[0]} > ${scan}` : (nodes[0] ?? '?'),
    rows,
    buffers,
    triggers,
    text: notice,
  };
}
