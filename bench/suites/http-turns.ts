import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { startFakeOpenAI, type FakeProviderServer } from '../../test/fakes/fake-openai-server.js';
import { appEnv, bearer, BENCH_REPORT, createReport, createUser, inBatches } from '../lib/app-fixture.js';
import { startServerProcess, type ServerProcess } from '../lib/child.js';
import { summarizeProfile, type ProfileSummary } from '../lib/cpu-profile.js';
import { createBenchDatabase, readStatements, resetStatements, type BenchDatabase, type StatementStat } from '../lib/database.js';
import { postTurn, type TurnTiming } from '../lib/http-client.js';
import { runLoad, withDeadline } from '../lib/load.js';
import { load1, RESULTS_DIR } from '../lib/results.js';
import { median, nowMs, summarize, type LatencySummary } from '../lib/stats.js';
import type { SuiteContext, SuiteReport, TargetResult } from '../lib/suite.js';
import { fmt, fmtRatio, renderTable, type Cell } from '../lib/table.js';
import { ANSWER_CHUNKS, question } from './append-approaches.js';

type Target = 'ours' | 'baseline' | 'baseline-sdk' | 'baseline-app';

const TARGETS: readonly Target[] = ['ours', 'baseline', 'baseline-sdk', 'baseline-app'];
const LABELS: Record<Target, string> = {
  ours: 'report-chat (startServer)',
  baseline: 'bare node:http baseline',
  'baseline-sdk': 'baseline, model via AI SDK',
  'baseline-app': "baseline, model via the app's client",
};

interface HttpCell {
  run: number;
  target: Target;
  clients: number;
  perSecond: number;
  turns: number;
  acknowledged: number;
  errors: number;
  firstErrors: string[];
  turnMs: LatencySummary;
  firstDeltaMs: LatencySummary;
  /** Client's first delta minus the fake model's first chunk, per turn. */
  addedTtftMs: LatencySummary;
  /** Answers committed complete during the cell minus turns acknowledged saved (0 = nothing lost). */
  lost: number;
  serverCpuMsPerTurn: number;
  pgCpuMsPerTurn?: number;
  benchCpuMsPerTurn: number;
  statements: StatementStat[];
  load1: number;
}

const TAG = /Question (\S+):/g;

/**
 * Suite 3: whole turns through the HTTP API of the real app (startServer, in a process of its own) with a model
 * that answers at once (the fake OpenAI-compatible server, 20 chunks), against a bare node:http baseline doing
 * the same two transactions and streaming the same events, side by side in each run. Two more servers, the baseline
 * calling the model through the AI SDK provider (as the app did) and through the app's own client (src/llm/wire),
 * show what the model client alone costs.
 */
export async function httpTurnsSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const { options, server, log } = ctx;
  const o = options.http;
  const cells: HttpCell[] = [];
  const profiles: { target: Target; summary: ProfileSummary }[] = [];
  for (let run = 1; run <= options.runs; run++) {
    const db = await createBenchDatabase(server, 'http', 4);
    const fake = await startFakeOpenAI({ behavior: { chunks: ANSWER_CHUNKS, chunkDelayMs: 0 } });
    const scratch = join(server.scratchDir, `http-${run}`);
    mkdirSync(scratch, { recursive: true });
    let ours: ServerProcess | undefined;
    let baseline: ServerProcess | undefined;
    let baselineSdk: ServerProcess | undefined;
    let baselineApp: ServerProcess | undefined;
    try {
      ours = await startServerProcess('ours', appEnv(db.url, fake.baseUrl, scratch), { logFile: join(scratch, 'ours.log') });
      baseline = await startServerProcess(
        'baseline',
        { DATABASE_URL: db.url, LLM_BASE_URL: fake.baseUrl, SYSTEM_PROMPT: BENCH_REPORT, POOL_MAX: '20' },
        { logFile: join(scratch, 'baseline.log') },
      );
      baselineSdk = await startServerProcess(
        'baseline',
        { DATABASE_URL: db.url, LLM_BASE_URL: fake.baseUrl, SYSTEM_PROMPT: BENCH_REPORT, POOL_MAX: '20', MODEL_CLIENT: 'ai-sdk' },
        { logFile: join(scratch, 'baseline-sdk.log') },
      );
      baselineApp = await startServerProcess(
        'baseline',
        { DATABASE_URL: db.url, LLM_BASE_URL: fake.baseUrl, SYSTEM_PROMPT: BENCH_REPORT, POOL_MAX: '20', MODEL_CLIENT: 'app' },
        { logFile: join(scratch, 'baseline-app.log') },
      );
      const setup = async () => {
        const owner = await createUser(ours!.url);
        const oursReports = await inBatches(Array.from({ length: o.reports }), 8, (_, i) => createReport(ours!.url, owner.token, `Ours ${i}`));
        const baseReports = await inBatches(Array.from({ length: o.reports }), 8, (_, i) => createReport(ours!.url, owner.token, `Baseline ${i}`));
        const sdkReports = await inBatches(Array.from({ length: o.reports }), 8, (_, i) => createReport(ours!.url, owner.token, `Baseline SDK ${i}`));
        const appReports = await inBatches(Array.from({ length: o.reports }), 8, (_, i) => createReport(ours!.url, owner.token, `Baseline app client ${i}`));
        const convRows = await db.sql<{ reportId: string; id: string }[]>`
          SELECT report_id, id FROM conversations WHERE report_id = ANY(${[...baseReports, ...sdkReports, ...appReports]}::uuid[])`;
        const convOf = new Map(convRows.map((r) => [r.reportId, r.id]));
        return { owner, oursReports, baseReports, sdkReports, appReports, convOf };
      };
      const { owner, oursReports, baseReports, sdkReports, appReports, convOf } = await withDeadline('http setup (users and reports)', 180_000, setup());
      const urls: Record<Target, string[]> = {
        ours: oursReports.map((id) => `${ours!.url}/api/reports/${id}/messages`),
        baseline: baseReports.map((id) => `${baseline!.url}/baseline/${convOf.get(id)!}/messages`),
        'baseline-sdk': sdkReports.map((id) => `${baselineSdk!.url}/baseline/${convOf.get(id)!}/messages`),
        'baseline-app': appReports.map((id) => `${baselineApp!.url}/baseline/${convOf.get(id)!}/messages`),
      };
      const processes: Record<Target, ServerProcess> = { ours, baseline, 'baseline-sdk': baselineSdk, 'baseline-app': baselineApp };
      // One turn each before anything else: a server that answers no turn (its SQL calls out of date with the
      // migrations, say) fails the suite here, with its reason, rather than measuring a rate of errors.
      for (const target of TARGETS) {
        const agent = new Agent({ keepAlive: false });
        const turn = await postTurn(agent, urls[target][0]!, { id: randomUUID(), content: question(`check-${target}`) }, target === 'ours' ? bearer(owner.token) : {});
        agent.destroy();
        if (!turn.saved) throw new Error(`${LABELS[target]} answered a turn without saved: true; its stream ended with: ${turn.tail.slice(-300)}`);
      }
      // Compile and warm the servers (JIT, pools, prepared statements) before anything is measured.
      for (const target of TARGETS) {
        const agent = new Agent({ keepAlive: true, maxSockets: 4 });
        await runLoad({
          workers: 4,
          warmupMs: 0,
          durationMs: 2_000,
          maxOps: 60,
          op: (w, n) => postTurn(agent, urls[target][w + 4 * n]!, { id: randomUUID(), content: question(`warm-${w}-${n}`) }, target === 'ours' ? bearer(owner.token) : {}).then(() => {}),
        });
        agent.destroy();
      }
      for (const clients of o.levels) {
        // A different server goes first at each level and run, so that none is always measured after the same one.
        const first = (run + o.levels.indexOf(clients)) % TARGETS.length;
        const order = TARGETS.map((_, i) => TARGETS[(first + i) % TARGETS.length]!);
        for (const target of order) {
          // Kept beside the JSON results (`.cpuprofile.json`: git-ignored; opens in Chrome DevTools or speedscope).
          const profileFile =
            options.profile && clients === Math.max(...o.levels) ? join(RESULTS_DIR, `http-${target}-${clients}c-run${run}.cpuprofile.json`) : undefined;
          const cell = await measure({ ctx, db, fake, run, target, clients, urls: urls[target], proc: processes[target], headers: target === 'ours' ? bearer(owner.token) : {}, profileFile });
          cells.push(cell);
          if (profileFile) profiles.push({ target, summary: summarizeProfile(profileFile) });
          log(
            `http run ${run} ${target} ${clients} clients: ${fmt(cell.perSecond, 0)} turns/s, p50 ${fmt(cell.turnMs.p50, 1)} ms, ` +
              `added TTFT p50 ${fmt(cell.addedTtftMs.p50, 2)} ms${cell.errors ? `, ${cell.errors} errors (${cell.firstErrors[0]})` : ''}`,
          );
        }
      }
    } finally {
      await ours?.close().catch(() => {});
      await baseline?.close().catch(() => {});
      await baselineSdk?.close().catch(() => {});
      await baselineApp?.close().catch(() => {});
      await fake.close();
      await db.drop();
    }
  }
  return report(cells, options.runs, profiles);
}

async function measure(args: {
  ctx: SuiteContext;
  db: BenchDatabase;
  fake: FakeProviderServer;
  run: number;
  target: Target;
  clients: number;
  urls: string[];
  proc: ServerProcess;
  headers: Record<string, string>;
  /** When set, the server's CPU profile of the measured cell is written here. */
  profileFile?: string;
}): Promise<HttpCell> {
  const { ctx, db, fake, run, target, clients, urls, proc, headers, profileFile } = args;
  const o = ctx.options.http;
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const perWorker = Math.max(1, Math.floor(urls.length / clients));
  fake.requests.length = 0;
  const timings: (TurnTiming & { tag: string })[] = [];
  const completeBefore = await completeAnswers(db);
  await resetStatements(db);
  if (profileFile) await proc.request({ type: 'profile-start' }, 'profiling');
  const u0 = await proc.usage();
  const pg0 = ctx.server.cpuSeconds();
  const c0 = process.cpuUsage();
  const startedAt = nowMs();
  const result = await withDeadline(
    `http ${target} ${clients}`,
    o.warmupMs + o.cellMs + 90_000,
    runLoad({
      workers: clients,
      warmupMs: o.warmupMs,
      durationMs: o.cellMs,
      maxOps: 100_000,
      op: async (w, n) => {
        // Worker w only uses reports w, w + clients, …: two clients never share a conversation, so no turn queues.
        const url = urls[w + clients * (n % perWorker)]!;
        const tag = `${target}-${run}-${clients}-${w}-${n}`;
        const timing = await postTurn(agent, url, { id: randomUUID(), content: question(tag) }, headers);
        if (!timing.saved) throw new Error(`the turn ended without saved: true (${timing.tail.slice(-160)})`);
        timings.push({ ...timing, tag });
      },
    }),
  );
  const c1 = process.cpuUsage(c0);
  const pg1 = ctx.server.cpuSeconds();
  const u1 = await proc.usage();
  if (profileFile) await proc.request({ type: 'profile-stop', file: profileFile }, 'profiling');
  agent.destroy();
  const statements = await readStatements(db, 20);
  const completeAfter = await completeAnswers(db);

  const firstChunk = new Map<string, number>();
  for (const r of fake.requests) {
    const messages = (r.body as { messages?: { content?: unknown }[] }).messages ?? [];
    const last = String(messages[messages.length - 1]?.content ?? '');
    const tags = [...last.matchAll(TAG)];
    const tag = tags[tags.length - 1]?.[1];
    if (tag && r.chunkTimes[0] !== undefined) firstChunk.set(tag, r.chunkTimes[0]);
  }
  const counted = timings.filter((t) => t.start >= startedAt + o.warmupMs);
  const added = counted.flatMap((t) => {
    const chunk = firstChunk.get(t.tag);
    return chunk !== undefined && t.firstDelta !== undefined ? [t.firstDelta - chunk] : [];
  });
  const acked = result.acknowledged;
  return {
    run,
    target,
    clients,
    perSecond: result.perSecond,
    turns: result.ops,
    acknowledged: acked,
    errors: result.errors,
    firstErrors: result.firstErrors,
    turnMs: summarize(counted.map((t) => t.end - t.start)),
    firstDeltaMs: summarize(counted.flatMap((t) => (t.firstDelta !== undefined ? [t.firstDelta - t.start] : []))),
    addedTtftMs: summarize(added),
    lost: acked - (completeAfter - completeBefore),
    serverCpuMsPerTurn: (u1.cpuUs - u0.cpuUs) / 1000 / Math.max(1, acked),
    pgCpuMsPerTurn: pg0 !== undefined && pg1 !== undefined ? ((pg1 - pg0) * 1000) / Math.max(1, acked) : undefined,
    benchCpuMsPerTurn: (c1.user + c1.system) / 1000 / Math.max(1, acked),
    statements: statements.map((s) => ({ ...s, query: s.query.slice(0, 160) })),
    load1: load1(),
  };
}

async function completeAnswers(db: BenchDatabase): Promise<number> {
  const [row] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM messages WHERE role = 'assistant' AND status = 'complete'`;
  return row?.n ?? 0;
}

function report(cells: HttpCell[], runs: number, profiles: { target: Target; summary: ProfileSummary }[]): SuiteReport {
  const levels = [...new Set(cells.map((c) => c.clients))];
  const of = (t: Target, clients: number) => cells.filter((c) => c.target === t && c.clients === clients);
  const ratio = (clients: number, t: Target = 'ours') => {
    const base = new Map(of('baseline', clients).map((c) => [c.run, c.perSecond]));
    return median(of(t, clients).map((c) => c.perSecond / (base.get(c.run) ?? Number.NaN)));
  };
  // Ours against another server, run by run (each run measures them side by side).
  const ratioTo = (clients: number, against: Target) => {
    const other = new Map(of(against, clients).map((c) => [c.run, c.perSecond]));
    return median(of('ours', clients).map((c) => c.perSecond / (other.get(c.run) ?? Number.NaN)));
  };
  const rows: Cell[][] = [];
  for (const clients of levels) {
    for (const t of TARGETS) {
      const cs = of(t, clients);
      if (cs.length === 0) continue;
      const m = (pick: (c: HttpCell) => number) => median(cs.map(pick));
      rows.push([
        clients,
        LABELS[t],
        fmt(m((c) => c.perSecond), 0),
        t === 'baseline' ? '1.00x' : fmtRatio(ratio(clients, t)),
        fmt(m((c) => c.turnMs.p50), 1),
        fmt(m((c) => c.turnMs.p99), 1),
        fmt(m((c) => c.firstDeltaMs.p50), 1),
        fmt(m((c) => c.addedTtftMs.p50), 2),
        fmt(m((c) => c.addedTtftMs.p99), 2),
        fmt(m((c) => c.serverCpuMsPerTurn), 2),
        fmt(m((c) => c.pgCpuMsPerTurn ?? Number.NaN), 2),
        cs.reduce((s, c) => s + c.lost + c.errors, 0),
      ]);
    }
  }
  const maxClients = Math.max(...levels);
  const minClients = Math.min(...levels);
  const headline = ratio(maxClients);
  const ttft = median(of('ours', minClients).map((c) => c.addedTtftMs.p50));
  const ttftBase = median(of('baseline', minClients).map((c) => c.addedTtftMs.p50));
  const targets: TargetResult[] = [
    {
      id: 'http-vs-baseline',
      target: `HTTP turn throughput ≥ 0.6x the bare node:http baseline at ${maxClients} clients`,
      measured:
        `${fmtRatio(headline)} (${fmt(median(of('ours', maxClients).map((c) => c.perSecond)), 0)} vs ${fmt(median(of('baseline', maxClients).map((c) => c.perSecond)), 0)} turns/s); ` +
        `the baseline calling the model through the AI SDK: ${fmtRatio(ratio(maxClients, 'baseline-sdk'))}, the app against it: ` +
        `${fmtRatio(ratioTo(maxClients, 'baseline-sdk'))}; through the app's client: ${fmtRatio(ratio(maxClients, 'baseline-app'))}, ` +
        `the app against it: ${fmtRatio(ratioTo(maxClients, 'baseline-app'))}`,
      met: headline >= 0.6,
    },
    {
      id: 'http-ttft',
      target: `server-added time to first token < 5 ms at the median (${minClients} client)`,
      measured: `${fmt(ttft, 2)} ms (baseline ${fmt(ttftBase, 2)} ms; at ${maxClients} clients ${fmt(median(of('ours', maxClients).map((c) => c.addedTtftMs.p50)), 1)} ms)`,
      met: ttft < 5,
    },
  ];

  // Statements per turn at the highest level, from pg_stat_statements, median run by throughput.
  const pickRun = (t: Target) => {
    const cs = of(t, maxClients).sort((a, b) => a.perSecond - b.perSecond);
    return cs[Math.floor(cs.length / 2)];
  };
  const stmtRows: Cell[][] = [];
  for (const t of ['ours', 'baseline'] as const) {
    const cell = pickRun(t);
    if (!cell) continue;
    for (const s of cell.statements.filter((st) => st.calls >= cell.acknowledged / 4)) {
      stmtRows.push([t, fmt(s.calls / cell.acknowledged, 2), fmt(s.meanMs, 3), fmt(s.totalMs / cell.acknowledged, 3), s.query.slice(0, 110)]);
    }
  }
  const tables = [
    {
      title: `HTTP turns, 20-chunk instant model (medians of ${runs} run${runs > 1 ? 's' : ''}; CPU in ms per turn)`,
      body: renderTable(
        ['clients', 'server', 'turns/s', 'vs baseline', 'turn p50 ms', 'turn p99 ms', 'first delta p50 ms', 'added TTFT p50 ms', 'added TTFT p99 ms', 'server CPU', 'PG CPU', 'lost+errors'],
        rows,
      ),
    },
  ];
  if (stmtRows.length) {
    tables.push({
      title: `HTTP turns: database statements per turn at ${maxClients} clients (pg_stat_statements; calls ≥ 0.25 per turn)`,
      body: renderTable(['server', 'calls/turn', 'mean ms', 'ms/turn', 'statement'], stmtRows),
    });
  }
  for (const p of profiles) {
    tables.push({
      title: `CPU profile of the ${p.target} server process over the measured cell at the highest level (V8 sampler, as node --cpu-prof): ${fmt(p.summary.busyMs, 0)} ms busy, self time by who caused it`,
      body: renderTable(
        ['charged to (nearest non-Node caller)', 'ms', 'share'],
        p.summary.byOwner.slice(0, 14).map((a) => [a.owner, fmt(a.ms, 0), `${fmt(a.share * 100, 1)}%`]),
      ),
    });
    tables.push({
      title: `CPU profile of the ${p.target} server process: top functions by self time`,
      body: renderTable(
        ['function', 'where', 'share'],
        p.summary.topFunctions.map((f) => [f.fn, f.where, `${fmt(f.share * 100, 1)}%`]),
      ),
    });
  }
  return { suite: 'http', tables, targets, data: { cells, profiles } };
}
