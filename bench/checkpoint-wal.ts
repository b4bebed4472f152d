import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Sql } from '../src/store/db.js';
import { createReport } from '../src/store/reports.js';
import { checkpointAnswer, finishAnswer, reserveTurn, type AnswerRef } from '../src/store/turns.js';
import { createUser } from '../src/store/users.js';
import { createBenchDatabase, startBenchServer } from './lib/database.js';

/**
 * `npx tsx bench/checkpoint-wal.ts`: the database write volume (WAL bytes) of streaming answers saved as the turn
 * engine saves them: a checkpoint every second of what arrived, then the final commit. `ANSWERS` answers stream at
 * once, interleaved as concurrent answers are, at 40 chunks of ~6 characters a second, for each length below; the
 * WAL is read on the server (pg_current_wal_lsn) before and after, on a server of its own with nothing else running.
 * Also: the WAL of a checkpoint in the first and in the last second of an answer, and of a checkpoint that only
 * renews the lease (no new text).
 */
const ANSWERS = Number(process.env.ANSWERS ?? 20);
const SECONDS = (process.env.SECONDS ?? '15,30,60').split(',').map(Number);
const CHARS_PER_SECOND = 240;
const WORDS = ['the', 'pool', 'was', 'exhausted', 'because', 'transactions', 'held', 'their', 'connection', 'while',
  'calling', 'payment', 'provider', 'which', 'answered', 'in', 'thirty', 'seconds', 'instead', 'of', 'milliseconds',
  'alert', 'when', 'wait', 'time', 'exceeds', 'move', 'external', 'calls', 'out', 'cache', 'cold', 'deploy'];

/** Text as a model streams it: words, not a repeated pattern that TOAST compression would shrink to nothing. */
function text(chars: number): string {
  let s = '';
  while (s.length < chars) s += WORDS[Math.floor(Math.random() * WORDS.length)] + (Math.random() < 0.08 ? '.\n' : ' ');
  return s.slice(0, chars);
}

const lsn = async (sql: Sql) => (await sql<{ l: string }[]>`SELECT pg_current_wal_lsn()::text AS l`)[0]!.l;
const walBetween = async (sql: Sql, from: string) =>
  Number((await sql<{ b: string }[]>`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ${from}::pg_lsn)::bigint AS b`)[0]!.b);

interface Streaming extends AnswerRef {
  content: string;
  saved: number;
}

/** One checkpoint of an answer, through the store's API, as src/chat/turn-engine.ts calls it. */
async function checkpoint(sql: Sql, a: Streaming): Promise<void> {
  const ok = await checkpointAnswer(sql, {
    conversationId: a.conversationId, seq: a.seq, owner: 'bench', leaseMs: 30_000,
    from: { chars: a.saved, sources: 0 }, text: a.content.slice(a.saved), reportRevision: 1,
  });
  if (!ok) throw new Error('lost the lease');
  a.saved = a.content.length;
}

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`[checkpoint-wal] ${line}\n`);
  const server = await startBenchServer(log);
  try {
    const db = await createBenchDatabase(server, 'wal', 8);
    const { sql } = db;
    const user = await createUser(sql, { email: `bench-${randomUUID()}@example.test`, name: 'bench', passwordHash: null });
    const rows: string[] = [];
    for (const seconds of SECONDS) {
      const answers: Streaming[] = [];
      for (let i = 0; i < ANSWERS; i++) {
        const report = await createReport(sql, { ownerId: user.id, title: 'r', content: '# R\n\nText.', status: 'complete' });
        const [conv] = await sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${report.id}`;
        const r = await reserveTurn(sql, {
          conversationId: conv!.id, userMessageId: randomUUID(), assistantMessageId: randomUUID(), content: 'Why did it fail?',
          maxMessages: 10_000, leaseOwner: 'bench', leaseMs: 30_000, start: { model: 'bench' },
        });
        answers.push({ conversationId: conv!.id, seq: r.assistantMessage.seq, content: '', saved: 0 });
      }
      const t0 = performance.now();
      const start = await lsn(sql);
      let firstRound = 0;
      let lastRound = 0;
      for (let s = 0; s < seconds; s++) {
        const round = await lsn(sql);
        for (const a of answers) {
          a.content += text(CHARS_PER_SECOND);
          await checkpoint(sql, a);
        }
        const bytes = await walBetween(sql, round);
        if (s === 0) firstRound = bytes;
        lastRound = bytes;
      }
      const renewal = await lsn(sql);
      for (const a of answers) await checkpoint(sql, a);
      const renewalBytes = (await walBetween(sql, renewal)) / ANSWERS;
      for (const a of answers) {
        const f = await finishAnswer(sql, { conversationId: a.conversationId, seq: a.seq, owner: 'bench', status: 'complete', content: a.content, error: null });
        if (!f.applied) throw new Error('finish not applied');
      }
      const total = await walBetween(sql, start);
      const answerBytes = Buffer.byteLength(answers[0]!.content);
      rows.push(
        `${String(seconds).padStart(4)} s  ${String(answerBytes).padStart(7)} B  ${String(Math.round(total / ANSWERS)).padStart(9)} B` +
          `  ${(total / ANSWERS / answerBytes).toFixed(2).padStart(6)}  ${String(Math.round(firstRound / ANSWERS)).padStart(8)} B` +
          `  ${String(Math.round(lastRound / ANSWERS)).padStart(8)} B  ${String(Math.round(renewalBytes)).padStart(7)} B` +
          `  (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );
    }
    const renewals = await renewalAlternatives(sql);
    process.stdout.write(
      `WAL of streaming answers, ${ANSWERS} at once, ${CHARS_PER_SECOND} characters a second, a checkpoint a second\n` +
        `  length  answer    WAL/answer  WAL/B  1st ckpt   last ckpt  renewal\n${rows.join('\n')}\n` +
        `WAL of one lease renewal, ${ANSWERS} answers streaming:\n${renewals.join('\n')}\n`,
    );
    await db.drop();
  } finally {
    await server.stop();
  }
}

/**
 * The designs considered for renewing a lease, each measured the same way: `ANSWERS` rows renewed 30 times each.
 * The messages row (its lease column unindexed, a HOT update) is what the app does; a table of its own holding only
 * the leases is the alternative; the indexed column is what the app did before (without its text).
 */
async function renewalAlternatives(sql: Sql): Promise<string[]> {
  const ids = await sql<AnswerRef[]>`SELECT conversation_id, seq FROM messages WHERE role = 'assistant' LIMIT ${ANSWERS}`;
  await sql`UPDATE messages SET status = 'streaming', lease_owner = 'bench', lease_expires_at = now() WHERE role = 'assistant'`;
  await sql`CREATE TABLE bench_leases (conversation_id uuid, seq bigint, owner text, expires_at timestamptz, PRIMARY KEY (conversation_id, seq))`;
  await sql`INSERT INTO bench_leases SELECT conversation_id, seq, 'bench', now() FROM messages WHERE role = 'assistant'`;
  const measure = async (label: string, renew: (r: AnswerRef) => Promise<unknown>) => {
    const from = await lsn(sql);
    for (let round = 0; round < 30; round++) for (const r of ids) await renew(r);
    return `  ${label.padEnd(58)} ${String(Math.round((await walBetween(sql, from)) / 30 / ids.length)).padStart(5)} B`;
  };
  const rows = [
    await measure('messages.lease_expires_at, unindexed (HOT): the app', (r) =>
      checkpointAnswer(sql, { ...r, owner: 'bench', leaseMs: 30_000, from: { chars: 0, sources: 0 }, text: '' })),
    await measure('a lease table of its own (owner, expiry; primary key only)', (r) =>
      sql`UPDATE bench_leases SET expires_at = now() + interval '30 s' WHERE conversation_id = ${r.conversationId} AND seq = ${r.seq} AND owner = 'bench'`),
  ];
  await sql`CREATE INDEX bench_lease_idx ON messages (lease_expires_at) WHERE status IN ('queued', 'streaming')`;
  rows.push(await measure('messages.lease_expires_at, indexed (before)', (r) =>
    sql`UPDATE messages SET lease_expires_at = now() + interval '30 s', updated_at = now() WHERE conversation_id = ${r.conversationId} AND seq = ${r.seq}`));
  return rows;
}

await main();
