import { connect } from '../../src/store/db.js';
import { createBenchDatabase } from '../lib/database.js';
import { runLoad, withDeadline } from '../lib/load.js';
import { load1 } from '../lib/results.js';
import { median, percentile } from '../lib/stats.js';
import type { SuiteContext, SuiteReport, TargetResult } from '../lib/suite.js';
import { fmt, fmtRatio, renderTable, type Cell } from '../lib/table.js';
import {
  APPROACH_LABELS,
  APPROACHES,
  appender,
  createApproachTables,
  question,
  resetStorage,
  seedConversations,
  storedMessages,
  type ApproachName,
  type OursCounts,
} from './append-approaches.js';

type Distribution = 'hot' | 'spread';

interface Cell1 {
  run: number;
  approach: ApproachName;
  distribution: Distribution;
  writers: number;
  perSecond: number;
  p50: number;
  p99: number;
  acknowledged: number;
  storedMessages: number;
  expectedMessages: number;
  lost: number;
  duplicated: number;
  answersNotComplete: number;
  errors: number;
  firstErrors: string[];
  /** PostgreSQL and bench-process CPU per acknowledged exchange, in microseconds. */
  pgCpuUs?: number;
  clientCpuUs: number;
  /** For `ours`: the share of exchanges whose answer reserveTurn started (the rest were left queued and went through startAnswer). */
  startedByReserve?: number;
  load1: number;
}

/**
 * Suite 1: one exchange = a user message and its answer, committed. Five ways of storing it, side by side on the
 * same server, at 1, 8 and 32 concurrent writers, on one hot conversation and spread over 1,000 conversations.
 * `ours` is the app's path: reserveTurn (which starts the answer when nothing is ahead of it) and finishAnswer, with
 * startAnswer in between only when the reserve left the answer queued; the table shows how often it did not.
 */
export async function storeAppendsSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const { options, server, log } = ctx;
  const o = options.store;
  const cells: Cell1[] = [];
  let isolation = '';
  for (let run = 1; run <= options.runs; run++) {
    const db = await createBenchDatabase(server, 'store', 4);
    try {
      await createApproachTables(db.sql);
      const conversations = await seedConversations(db.sql, o.spread);
      const [iso] = await db.sql<{ defaultTransactionIsolation: string }[]>`SHOW default_transaction_isolation`;
      isolation = iso?.defaultTransactionIsolation ?? '?';
      // The approach measured first rotates with the run, so no approach always runs on a colder server.
      const order = APPROACHES.map((_, i) => APPROACHES[(i + run - 1) % APPROACHES.length]!);
      for (const distribution of ['hot', 'spread'] as const) {
        const targets = distribution === 'hot' ? conversations.slice(0, 1) : conversations;
        for (const writers of o.levels) {
          for (const approach of order) {
            await resetStorage(db.sql);
            const cell = await measureCell(db.url, approach, distribution, writers, targets, run, ctx);
            cells.push(cell);
            log(
              `store run ${run} ${distribution} ${writers}w ${approach}: ${fmt(cell.perSecond, 0)}/s p50 ${fmt(cell.p50, 2)} ms` +
                ` lost ${cell.lost}${cell.errors ? ` errors ${cell.errors} (${cell.firstErrors[0]})` : ''}` +
                (cell.startedByReserve !== undefined ? `, started by reserve ${fmt(cell.startedByReserve * 100, 1)}%` : ''),
            );
          }
        }
      }
    } finally {
      await db.drop();
    }
  }
  return report(cells, options.runs, isolation);
}

async function measureCell(
  url: string,
  approach: ApproachName,
  distribution: Distribution,
  writers: number,
  conversations: readonly string[],
  run: number,
  ctx: SuiteContext,
): Promise<Cell1> {
  const o = ctx.options.store;
  // The app's own pool settings (src/store/db.ts), one connection per writer.
  const sql = connect(url, { max: writers, applicationName: `bench ${approach}` });
  try {
    const counts: OursCounts = { exchanges: 0, startedByReserve: 0, fallbacks: 0 };
    const append = appender(approach, sql, counts);
    // Open every connection before the clock starts: a new connection's SCRAM handshake is not an append.
    await Promise.all(Array.from({ length: writers }, () => sql`SELECT pg_sleep(0.01)`));
    const pick = () => conversations[conversations.length === 1 ? 0 : Math.floor(Math.random() * conversations.length)]!;
    const pg0 = ctx.server.cpuSeconds();
    const cpu0 = process.cpuUsage();
    const result = await withDeadline(
      `store cell ${approach} ${distribution} ${writers}`,
      o.warmupMs + o.cellMs + 60_000,
      runLoad({
        workers: writers,
        warmupMs: o.warmupMs,
        durationMs: o.cellMs,
        maxOps: 200_000,
        op: (w, n) => append(pick(), question(`${run}-${w}-${n}`)),
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    const pg1 = ctx.server.cpuSeconds();
    const { stored, notComplete } = await storedMessages(sql, approach, conversations);
    const expected = result.acknowledged * 2;
    return {
      run,
      approach,
      distribution,
      writers,
      perSecond: result.perSecond,
      p50: percentile(result.latencies, 50),
      p99: percentile(result.latencies, 99),
      acknowledged: result.acknowledged,
      storedMessages: stored,
      expectedMessages: expected,
      // A failed call may or may not have committed: only acknowledged exchanges are owed.
      lost: Math.max(0, expected - stored),
      duplicated: Math.max(0, stored - expected - result.errors * 2),
      answersNotComplete: notComplete,
      errors: result.errors,
      firstErrors: result.firstErrors,
      pgCpuUs: pg0 !== undefined && pg1 !== undefined ? ((pg1 - pg0) * 1e6) / Math.max(1, result.acknowledged) : undefined,
      clientCpuUs: (cpu.user + cpu.system) / Math.max(1, result.acknowledged),
      startedByReserve: approach === 'ours' ? counts.startedByReserve / Math.max(1, counts.exchanges) : undefined,
      load1: load1(),
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function report(cells: Cell1[], runs: number, isolation: string): SuiteReport {
  const of = (a: ApproachName, d: Distribution, w: number) => cells.filter((c) => c.approach === a && c.distribution === d && c.writers === w);
  const levels = [...new Set(cells.map((c) => c.writers))];
  const rows: Cell[][] = [];
  const ratioRows: Cell[][] = [];
  for (const d of ['hot', 'spread'] as const) {
    for (const w of levels) {
      const floorByRun = new Map(of('floor', d, w).map((c) => [c.run, c.perSecond]));
      const floor2ByRun = new Map(of('floor-2tx', d, w).map((c) => [c.run, c.perSecond]));
      for (const a of APPROACHES) {
        const cs = of(a, d, w);
        if (cs.length === 0) continue;
        const ratio = median(cs.map((c) => c.perSecond / (floorByRun.get(c.run) ?? Number.NaN)));
        const acked = cs.reduce((s, c) => s + c.acknowledged, 0);
        const lost = cs.reduce((s, c) => s + c.lost, 0);
        rows.push([
          d === 'hot' ? 'one hot' : '1,000 convs',
          w,
          APPROACH_LABELS[a],
          fmt(median(cs.map((c) => c.perSecond)), 0),
          fmt(median(cs.map((c) => c.p50)), 2),
          fmt(median(cs.map((c) => c.p99)), 2),
          a === 'floor' ? '1.00x' : fmtRatio(ratio),
          a === 'ours' ? fmtRatio(median(cs.map((c) => c.perSecond / (floor2ByRun.get(c.run) ?? Number.NaN)))) : '–',
          `${lost.toLocaleString('en-US')} of ${(acked * 2).toLocaleString('en-US')}${lost ? ` (${fmt((lost / (acked * 2)) * 100, 1)}%)` : ''}`,
          cs.reduce((s, c) => s + c.errors + c.duplicated + c.answersNotComplete, 0),
          fmt(median(cs.map((c) => c.pgCpuUs ?? Number.NaN)), 0),
          fmt(median(cs.map((c) => c.clientCpuUs)), 0),
          a === 'ours' ? fmtShare(median(cs.map((c) => c.startedByReserve ?? Number.NaN))) : '–',
        ]);
      }
      const ratioOf = (a: ApproachName) => median(of(a, d, w).map((c) => c.perSecond / (floorByRun.get(c.run) ?? Number.NaN)));
      ratioRows.push([
        d === 'hot' ? 'one hot' : '1,000 convs',
        w,
        fmtRatio(ratioOf('floor-2tx')),
        fmtRatio(ratioOf('ours')),
        fmtRatio(ratioOf('jsonb-concat')),
        fmtRatio(ratioOf('jsonb-function')),
      ]);
    }
  }

  const oursLost = cells.filter((c) => c.approach === 'ours').reduce((s, c) => s + c.lost + c.duplicated + c.answersNotComplete, 0);
  const oursErrors = cells.filter((c) => c.approach === 'ours').reduce((s, c) => s + c.errors, 0);
  const fnLost = cells.filter((c) => c.approach === 'jsonb-function').reduce((s, c) => s + c.lost, 0);
  const fnAcked = cells.filter((c) => c.approach === 'jsonb-function').reduce((s, c) => s + c.acknowledged * 2, 0);
  const maxLevel = Math.max(...levels);
  const floorAt = new Map(of('floor', 'spread', maxLevel).map((c) => [c.run, c.perSecond]));
  const headline = median(of('ours', 'spread', maxLevel).map((c) => c.perSecond / (floorAt.get(c.run) ?? Number.NaN)));
  const floor2At = new Map(of('floor-2tx', 'spread', maxLevel).map((c) => [c.run, c.perSecond]));
  const twoCommitCeiling = median(of('floor-2tx', 'spread', maxLevel).map((c) => c.perSecond / (floorAt.get(c.run) ?? Number.NaN)));
  const vsTwoCommit = median(of('ours', 'spread', maxLevel).map((c) => c.perSecond / (floor2At.get(c.run) ?? Number.NaN)));
  const targets: TargetResult[] = [
    {
      id: 'store-vs-floor',
      target: `our store ≥ 0.5x the bare INSERT floor at ${maxLevel} writers over 1,000 conversations`,
      measured:
        `${fmtRatio(headline)} (median of ${runs} run${runs > 1 ? 's' : ''}); two bare INSERTs in two commits reach ` +
        `${fmtRatio(twoCommitCeiling)} of it, and ours ${fmtRatio(vsTwoCommit)} of them`,
      met: headline >= 0.5,
    },
    {
      id: 'store-zero-lost',
      target: 'zero messages lost by our store at every level (JSONB function losses beside it)',
      measured: `ours: ${oursLost} lost/duplicated/unfinished, ${oursErrors} errors; JSONB function: ${fnLost.toLocaleString('en-US')} of ${fnAcked.toLocaleString('en-US')} acknowledged messages lost`,
      met: oursLost === 0 && oursErrors === 0,
    },
  ];
  return {
    suite: 'store',
    tables: [
      {
        title: `Store appends (medians of ${runs} run${runs > 1 ? 's' : ''}; losses summed over all runs; JSONB function at ${isolation})`,
        body: renderTable(
          ['conversations', 'writers', 'approach', 'exchanges/s', 'p50 ms', 'p99 ms', 'vs floor', 'vs two-commit floor', 'messages lost (of acknowledged)', 'errors+dups', 'PG CPU µs/exch', 'app CPU µs/exch', 'started by reserve'],
          rows,
        ),
      },
      {
        title: 'Store appends: throughput as a ratio of the bare INSERT floor, same run (median)',
        body: renderTable(['conversations', 'writers', 'two-commit floor', 'ours', 'JSONB concat', 'JSONB function'], ratioRows),
      },
    ],
    targets,
    data: { isolation, cells },
  };
}

const fmtShare = (share: number): string => (Number.isFinite(share) ? `${fmt(share * 100, 1)}%` : '–');
