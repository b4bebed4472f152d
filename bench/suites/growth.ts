import { performance } from 'node:perf_hooks';
import type { Sql } from '../../src/store/db.js';
import { readContextHistory } from '../../src/store/history.js';
import { createBenchDatabase } from '../lib/database.js';
import { withDeadline } from '../lib/load.js';
import { load1 } from '../lib/results.js';
import { median, summarize, type LatencySummary } from '../lib/stats.js';
import type { SuiteContext, SuiteReport, TargetResult } from '../lib/suite.js';
import { fmt, fmtRatio, renderTable, type Cell } from '../lib/table.js';
import { ANSWER, appender, createApproachTables, question, seedConversations, type ApproachName } from './append-approaches.js';

type GrowthApproach = Extract<ApproachName, 'ours' | 'jsonb-concat'>;

interface GrowthCell {
  run: number;
  approach: GrowthApproach | 'context-read';
  size: number;
  conversations: number;
  latency: LatencySummary;
  /** For the context read: rows it returned. */
  rows?: number;
  load1: number;
}

// The model context a real turn reads (config default CONTEXT_MAX_TOKENS 100,000 at ~4 characters a token).
const CONTEXT_CHARS = 100_000 * 4;
const WARMUP_APPENDS = 5;

/**
 * Suite 2: latency of one append when the conversation already holds 10, 1,000 and 10,000 messages, ours against
 * JSONB concatenation, one writer, the sizes interleaved. Each conversation receives at most a tenth of its size in
 * new messages, so the size measured is the size named. Beside it: the context read of a real turn at those sizes.
 */
export async function growthSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const { options, server, log } = ctx;
  const o = options.growth;
  const largest = Math.max(...o.sizes);
  const cells: GrowthCell[] = [];
  for (let run = 1; run <= options.runs; run++) {
    const db = await createBenchDatabase(server, 'growth', 4);
    try {
      await createApproachTables(db.sql);
      const approaches: GrowthApproach[] = run % 2 ? ['ours', 'jsonb-concat'] : ['jsonb-concat', 'ours'];
      for (const approach of approaches) {
        // Every size gets its own conversations, filled first; then the appends go round-robin over the sizes, so
        // that a busy moment of this shared machine slows every size alike instead of one of them.
        const plans = [];
        for (const size of o.sizes) {
          const appends = approach === 'jsonb-concat' && size === largest ? o.jsonbAppendsAtMax : o.appends;
          const perConversation = Math.max(1, Math.floor((size * 0.1) / 2));
          const conversations = await seedFilled(db.sql, Math.ceil((appends + WARMUP_APPENDS) / perConversation), size);
          plans.push({ size, appends, perConversation, conversations, latencies: [] as number[] });
        }
        const append = appender(approach, db.sql);
        await withDeadline(`growth ${approach}`, o.cellMs * o.sizes.length + 60_000, (async () => {
          const start = performance.now();
          const rounds = Math.max(...plans.map((p) => p.appends)) + WARMUP_APPENDS;
          for (let i = 0; i < rounds && performance.now() - start < o.cellMs * o.sizes.length; i++) {
            for (const p of plans) {
              if (i >= p.appends + WARMUP_APPENDS) continue;
              const t0 = performance.now();
              await append(p.conversations[Math.floor(i / p.perConversation)]!, question(`${run}-${p.size}-${i}`));
              if (i >= WARMUP_APPENDS) p.latencies.push(performance.now() - t0);
            }
          }
        })());
        for (const p of plans) {
          cells.push({ run, approach, size: p.size, conversations: p.conversations.length, latency: summarize(p.latencies), load1: load1() });
          log(`growth run ${run} ${approach} at ${p.size}: p50 ${fmt(summarize(p.latencies).p50, 2)} ms (${p.latencies.length} appends)`);
        }
      }
      // The other half of a turn's cost at each size: the context read (DESIGN.md step 4), sizes interleaved too.
      const reads = [];
      for (const size of o.sizes) {
        const [conv] = await seedFilled(db.sql, 1, size);
        const [next] = await db.sql<{ nextSeq: number }[]>`SELECT next_seq FROM conversations WHERE id = ${conv!}`;
        reads.push({ size, conv: conv!, nextSeq: next!.nextSeq, rows: 0, latencies: [] as number[] });
      }
      for (let i = 0; i < 25; i++) {
        for (const r of reads) {
          const t0 = performance.now();
          r.rows = (await readContextHistory(db.sql, r.conv, r.nextSeq, CONTEXT_CHARS)).length;
          if (i >= 3) r.latencies.push(performance.now() - t0);
        }
      }
      for (const r of reads) cells.push({ run, approach: 'context-read', size: r.size, conversations: 1, latency: summarize(r.latencies), rows: r.rows, load1: load1() });
    } finally {
      await db.drop();
    }
  }
  return report(cells, options.runs);
}

/** `count` conversations that each already hold `size` completed messages, in both our tables and JSONB. */
async function seedFilled(sql: Sql, count: number, size: number): Promise<string[]> {
  const ids = await seedConversations(sql, count);
  await sql`
    INSERT INTO messages (conversation_id, seq, id, role, content, status, reply_to, changed_version)
    SELECT c.id, g, gen_random_uuid(), CASE WHEN g % 2 = 1 THEN 'user' ELSE 'assistant' END,
           CASE WHEN g % 2 = 1 THEN ${question('seed')} ELSE ${ANSWER} END, 'complete', NULL, g
    FROM unnest(${ids}::uuid[]) AS c(id), generate_series(1, ${size}) g`;
  await sql`UPDATE conversations SET next_seq = ${size + 1}, version = ${size}, message_count = ${size} WHERE id = ANY(${ids}::uuid[])`;
  await sql`
    UPDATE bench_jsonb_conversations j SET history = (
      SELECT jsonb_agg(jsonb_build_object(
        'id', gen_random_uuid(), 'role', CASE WHEN g % 2 = 1 THEN 'user' ELSE 'assistant' END,
        'content', CASE WHEN g % 2 = 1 THEN ${question('seed')} ELSE ${ANSWER} END,
        'status', 'complete', 'createdAt', now()) ORDER BY g)
      FROM generate_series(1, ${size}) g)
    WHERE j.id = ANY(${ids}::uuid[])`;
  await sql`VACUUM (ANALYZE) conversations, messages, bench_jsonb_conversations`;
  return ids;
}

function report(cells: GrowthCell[], runs: number): SuiteReport {
  const sizes = [...new Set(cells.map((c) => c.size))].sort((a, b) => a - b);
  const smallest = sizes[0]!;
  const largest = sizes[sizes.length - 1]!;
  const byRun = (a: GrowthCell['approach'], size: number) => cells.filter((c) => c.approach === a && c.size === size);
  /** Per run, p50 at `size` over p50 at the smallest size; the median over runs. */
  const growthRatio = (a: GrowthCell['approach'], size: number) =>
    median(byRun(a, size).map((c) => c.latency.p50 / (byRun(a, smallest).find((s) => s.run === c.run)?.latency.p50 ?? Number.NaN)));
  const rows: Cell[][] = sizes.map((size) => {
    const ours = byRun('ours', size);
    const jsonb = byRun('jsonb-concat', size);
    const context = byRun('context-read', size);
    return [
      size.toLocaleString('en-US'),
      fmt(median(ours.map((c) => c.latency.p50)), 2),
      fmt(median(ours.map((c) => c.latency.p99)), 2),
      fmtRatio(growthRatio('ours', size)),
      fmt(median(jsonb.map((c) => c.latency.p50)), 2),
      fmt(median(jsonb.map((c) => c.latency.p99)), 2),
      fmtRatio(growthRatio('jsonb-concat', size)),
      fmt(median(context.map((c) => c.latency.p50)), 2),
      context[0]?.rows ?? '–',
    ];
  });
  const headline = growthRatio('ours', largest);
  const targets: TargetResult[] = [
    {
      id: 'growth',
      target: `append latency at ${largest.toLocaleString('en-US')} messages within 1.3x of ${smallest}`,
      measured: `${fmtRatio(headline)} (p50 ${fmt(median(byRun('ours', largest).map((c) => c.latency.p50)), 2)} ms vs ${fmt(median(byRun('ours', smallest).map((c) => c.latency.p50)), 2)} ms; JSONB concat ${fmtRatio(growthRatio('jsonb-concat', largest))})`,
      met: headline <= 1.3,
    },
  ];
  return {
    suite: 'growth',
    tables: [
      {
        title: `Growth: latency of one append (one writer) by messages already in the conversation (medians of ${runs} run${runs > 1 ? 's' : ''})`,
        body: renderTable(
          ['messages before', 'ours p50 ms', 'ours p99 ms', 'ours vs 10', 'JSONB concat p50 ms', 'JSONB p99 ms', 'JSONB vs 10', 'context read p50 ms', 'context rows'],
          rows,
        ),
      },
    ],
    targets,
    data: { cells },
  };
}
