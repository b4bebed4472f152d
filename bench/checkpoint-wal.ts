import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sql } from '../src/store/db.js';
import { createReport } from '../src/store/reports.js';
import { checkpointAnswer, checkpointAnswers, rotateAnswerPieces } from '../src/store/checkpoints.js';
import { finishAnswer, reserveTurn, type AnswerRef } from '../src/store/turns.js';
import { createUser } from '../src/store/users.js';
import { createBenchDatabase, startBenchServer } from './lib/database.js';

/**
 * `npx tsx bench/checkpoint-wal.ts`: the database write volume (WAL bytes) of streaming answers saved as the turn
 * engine saves them: a checkpoint every second of what arrived, then the final commit. `ANSWERS` answers stream at
 * once, at 40 chunks of ~6 characters a second, for each length below, checkpointed as src/chat/checkpointer.ts
 * does: one statement a second for all of them (CHECKPOINT=batch, the default), or, for comparison, one statement
 * per answer (CHECKPOINT=per-answer, the same function called with one answer at a time); the
 * WAL is read on the server (pg_current_wal_lsn) before and after, on a server of its own with nothing else running.
 * Also: the WAL of a checkpoint in the first and in the last second of an answer, and of a checkpoint with no new
 * text, when its lease is due for renewal and when it is not.
 *
 * A checkpoint renews the lease only when it runs low, so the rounds keep time: one second of streaming every
 * ROUND_MS (default 1000, real time), with the lease (the app's default TURN_LEASE_MS, 15 s) scaled by the same
 * factor, so that ROUND_MS=250 runs four times faster and renews exactly as often per answer. The WAL of the last
 * length is broken down by record type (pg_walinspect), full-page images apart: those follow the server's own
 * checkpoints and hint bits, not the answers.
 */
const ANSWERS = Number(process.env.ANSWERS ?? 100);
const SECONDS = (process.env.SECONDS ?? '15,30,60').split(',').map(Number);
const ROUND_MS = Number(process.env.ROUND_MS ?? 1_000);
const PER_ANSWER = process.env.CHECKPOINT === 'per-answer';
const LEASE_MS = Math.round((15_000 * ROUND_MS) / 1_000);
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

interface WalKind {
  kind: string;
  count: number;
  recordBytes: number;
  fpiBytes: number;
}

/** The WAL written since `from`, by resource manager and record type; full-page images apart. */
const walKinds = (sql: Sql, from: string) =>
  sql<WalKind[]>`
    SELECT "resource_manager/record_type" AS kind, count::float8 AS count, record_size::float8 AS record_bytes, fpi_size::float8 AS fpi_bytes
    FROM pg_get_wal_stats(${from}::pg_lsn, pg_current_wal_lsn(), true)
    WHERE count > 0 ORDER BY combined_size DESC`;

interface Streaming extends AnswerRef {
  content: string;
  saved: number;
}

/** One checkpoint of every answer, through the store's API, as src/chat/checkpointer.ts calls it (or one by one). */
async function checkpoint(sql: Sql, answers: Streaming[]): Promise<void> {
  const pieces = answers.map((a) => ({
    conversationId: a.conversationId, seq: a.seq, from: { chars: a.saved, sources: 0 }, text: a.content.slice(a.saved), reportRevision: 1,
  }));
  const batch = { owner: 'bench', leaseMs: LEASE_MS };
  const held = PER_ANSWER
    ? await Promise.all(pieces.map((p) => checkpointAnswer(sql, { ...batch, ...p })))
    : await checkpointAnswers(sql, { ...batch, answers: pieces });
  if (held.some((h) => !h)) throw new Error('lost the lease');
  for (const a of answers) a.saved = a.content.length;
}

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`[checkpoint-wal] ${line}\n`);
  const server = await startBenchServer(log);
  try {
    const db = await createBenchDatabase(server, 'wal', 8);
    const { sql } = db;
    const user = await createUser(sql, { email: `bench-${randomUUID()}@example.test`, name: 'bench', passwordHash: null });
    await sql`CREATE EXTENSION IF NOT EXISTS pg_walinspect`;
    const rows: string[] = [];
    let breakdown: WalKind[] = [];
    for (const seconds of SECONDS) {
      const answers: Streaming[] = [];
      for (let i = 0; i < ANSWERS; i++) {
        const report = await createReport(sql, { ownerId: user.id, title: 'r', content: '# R\n\nText.', status: 'complete' });
        const [conv] = await sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${report.id}`;
        const r = await reserveTurn(sql, {
          conversationId: conv!.id, userMessageId: randomUUID(), assistantMessageId: randomUUID(), content: 'Why did it fail?',
          maxMessages: 10_000, leaseOwner: 'bench', leaseMs: LEASE_MS, start: { model: 'bench' },
        });
        answers.push({ conversationId: conv!.id, seq: r.assistantMessage.seq, content: '', saved: 0 });
      }
      const t0 = performance.now();
      const start = await lsn(sql);
      let firstRound = 0;
      let lastRound = 0;
      for (let s = 0; s < seconds; s++) {
        await sleep(t0 + (s + 1) * ROUND_MS - performance.now());
        const round = await lsn(sql);
        for (const a of answers) a.content += text(CHARS_PER_SECOND);
        await checkpoint(sql, answers);
        const bytes = await walBetween(sql, round);
        if (s === 0) firstRound = bytes;
        lastRound = bytes;
      }
      // Checkpoints with nothing new: once the lease is due for renewal (a third of it has run since the last
      // possible renewal), then at once again, with the lease fresh.
      await sleep(LEASE_MS / 3 + ROUND_MS);
      const renewal = await lsn(sql);
      await checkpoint(sql, answers);
      const renewalBytes = (await walBetween(sql, renewal)) / ANSWERS;
      const fresh = await lsn(sql);
      await checkpoint(sql, answers);
      const freshBytes = (await walBetween(sql, fresh)) / ANSWERS;
      for (const a of answers) {
        const f = await finishAnswer(sql, { conversationId: a.conversationId, seq: a.seq, owner: 'bench', status: 'complete', content: a.content, error: null });
        if (!f.applied) throw new Error('finish not applied');
      }
      // The pieces go as the sweeper removes them (migration 0013): a switch of generation, then the old table
      // truncated once drained; their removal is part of what an answer costs, so it is counted.
      await rotatePiecesAway(sql);
      const total = await walBetween(sql, start);
      const answerBytes = Buffer.byteLength(answers[0]!.content);
      const kinds = await walKinds(sql, start);
      const fpi = kinds.reduce((sum, k) => sum + k.fpiBytes, 0);
      breakdown = kinds;
      rows.push(
        `${String(seconds).padStart(4)} s  ${String(answerBytes).padStart(7)} B  ${String(Math.round(total / ANSWERS)).padStart(9)} B` +
          `  ${(total / ANSWERS / answerBytes).toFixed(2).padStart(6)}  ${String(Math.round(firstRound / ANSWERS)).padStart(8)} B` +
          `  ${String(Math.round(lastRound / ANSWERS)).padStart(8)} B  ${String(Math.round(renewalBytes)).padStart(7)} B` +
          `  ${String(Math.round(freshBytes)).padStart(7)} B  ${String(Math.round(fpi / ANSWERS)).padStart(7)} B` +
          `  (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );
    }
    const renewals = await renewalAlternatives(sql);
    process.stdout.write(
      `WAL of streaming answers, ${ANSWERS} at once, ${CHARS_PER_SECOND} characters a second, a checkpoint a second` +
        ` (${PER_ANSWER ? 'one statement per answer' : 'one statement for all answers'})` +
        ` (a second every ${ROUND_MS} ms, lease ${LEASE_MS} ms)\n` +
        `  length  answer    WAL/answer  WAL/B  1st ckpt   last ckpt  empty ckpt: renewal, lease fresh  of which FPI\n${rows.join('\n')}\n` +
        `WAL of the last length by kind, per answer (pg_walinspect):\n${breakdown
          .map((k) => `  ${k.kind.padEnd(28)} ${String(Math.round(k.count / ANSWERS)).padStart(5)} records ${String(Math.round(k.recordBytes / ANSWERS)).padStart(7)} B  FPI ${String(Math.round(k.fpiBytes / ANSWERS)).padStart(6)} B`)
          .join('\n')}\n` +
        `WAL of one lease renewal, ${ANSWERS} answers streaming:\n${renewals.join('\n')}\n`,
    );
    await db.drop();
  } finally {
    await server.stop();
  }
}

/** Rotation steps until the table these answers' pieces went to is truncated (the sweeper's steps, without waiting). */
async function rotatePiecesAway(sql: Sql): Promise<void> {
  let switched = false;
  for (let i = 0; i < 20; i++) {
    const step = await rotateAnswerPieces(sql, 0);
    if (step === 'truncated' && switched) return;
    if (step === 'switched') switched = true;
    if (step === 'waiting' || step === 'busy') await sleep(300);
  }
  throw new Error('pieces not rotated away');
}

/**
 * The designs considered for renewing a lease, each measured the same way: `ANSWERS` rows renewed 30 times each.
 * The messages row (its lease column unindexed, a HOT update) is what the app does when a renewal is due (forced
 * here by a new report revision at every call), and a checkpoint between renewals only reads the row (the commit of
 * its statement of one answer is most of what it writes);
 * a table of its own holding only the leases is the alternative; the indexed column is what the app did before
 * (without its text).
 */
async function renewalAlternatives(sql: Sql): Promise<string[]> {
  const ids = await sql<AnswerRef[]>`SELECT conversation_id, seq FROM messages WHERE role = 'assistant' LIMIT ${ANSWERS}`;
  await sql`UPDATE messages SET status = 'streaming', lease_owner = 'bench', lease_expires_at = now() WHERE role = 'assistant'`;
  await sql`CREATE TABLE bench_leases (conversation_id uuid, seq bigint, owner text, expires_at timestamptz, PRIMARY KEY (conversation_id, seq))`;
  await sql`INSERT INTO bench_leases SELECT conversation_id, seq, 'bench', now() FROM messages WHERE role = 'assistant'`;
  const measure = async (label: string, renew: (r: AnswerRef, round: number) => Promise<unknown>) => {
    const from = await lsn(sql);
    for (let round = 0; round < 30; round++) for (const r of ids) await renew(r, round);
    return `  ${label.padEnd(58)} ${String(Math.round((await walBetween(sql, from)) / 30 / ids.length)).padStart(5)} B`;
  };
  const empty = { owner: 'bench', leaseMs: 30_000, from: { chars: 0, sources: 0 }, text: '' };
  const rows = [
    await measure('messages.lease_expires_at, unindexed (HOT): the app', (r, round) =>
      checkpointAnswer(sql, { ...r, ...empty, reportRevision: 1_000 + round })),
    await measure('the app between renewals: a read, no lock', (r) => checkpointAnswer(sql, { ...r, ...empty })),
    await measure('a lease table of its own (owner, expiry; primary key only)', (r) =>
      sql`UPDATE bench_leases SET expires_at = now() + interval '30 s' WHERE conversation_id = ${r.conversationId} AND seq = ${r.seq} AND owner = 'bench'`),
  ];
  await sql`CREATE INDEX bench_lease_idx ON messages (lease_expires_at) WHERE status IN ('queued', 'streaming')`;
  rows.push(await measure('messages.lease_expires_at, indexed (before)', (r) =>
    sql`UPDATE messages SET lease_expires_at = now() + interval '30 s', updated_at = now() WHERE conversation_id = ${r.conversationId} AND seq = ${r.seq}`));
  return rows;
}

await main();
