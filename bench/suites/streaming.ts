import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createReport } from '../../src/store/reports.js';
import { createUser as createStoreUser } from '../../src/store/users.js';
import { appEnv, BENCH_REPORT, bearer, createUser, inBatches } from '../lib/app-fixture.js';
import { startServerProcess, type ServerProcess } from '../lib/child.js';
import { createBenchDatabase, type BenchDatabase } from '../lib/database.js';
import { withDeadline } from '../lib/load.js';
import type { StreamDesign } from '../lib/options.js';
import { summarizeProfile } from '../lib/cpu-profile.js';
import { summarizeHeapProfile } from '../lib/heap-profile.js';
import { load1, RESULTS_DIR } from '../lib/results.js';
import { nowMs } from '../lib/stats.js';
import { STAMP_CHARS } from '../lib/stamps.js';
import type { SuiteContext, SuiteReport } from '../lib/suite.js';
import type { StreamRun, Usage } from '../servers/protocol.js';
import { streamingReport, type StepResult } from './streaming-report.js';

const METRICS_TOKEN = 'bench-metrics-token-0123456789';

/** What each design runs: the app (one or two startServer processes), or the baseline server with a SAVE mode. */
const SAVE_MODE: Partial<Record<StreamDesign, string>> = { relay: 'none', 'relay-sdk': 'none', 'end-only': 'end', 'every-chunk': 'every-chunk' };
/** The designs with no database: the references. */
export const isRelay = (d: StreamDesign) => SAVE_MODE[d] === 'none';
const isApp = (d: StreamDesign) => d === 'app' || d === 'app-2';

interface Running {
  design: StreamDesign;
  procs: ServerProcess[];
  /** RSS and heap of each process, idle after its warm-up and full GCs: what an answer's memory is counted from. */
  idle: Usage[];
}

/**
 * `--suite streaming`: how many answers can stream at once before the server adds 100 ms (p99) to a chunk's way
 * from the model to the client, and what each streaming answer costs in CPU, memory and database writes. The fake
 * model (bench/servers/paced-model.ts) and the load generator (bench/servers/stream-client.ts) run in processes of
 * their own; each chunk carries the moment the model wrote it, read by the client on arrival (one machine, one
 * clock). The designs, one after another in the same run, on the same embedded PostgreSQL: the app on one instance
 * and on two (clients split across them), a bench server that saves only at the end, one that saves the whole text
 * after every chunk, and two relays with no database, the references: a bare node:http one, and the same calling
 * the model through the AI SDK's client as the app does. N doubles from step to step; a design stops at its first
 * failing step (p99 over the limit, or an answer that failed), then one more step between the last N that passed and
 * the first that failed.
 */
export async function streamingSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const { server, log } = ctx;
  const o = ctx.options.streaming;
  const db = await createBenchDatabase(server, 'streaming', 16);
  const scratch = join(server.scratchDir, 'streaming');
  mkdirSync(scratch, { recursive: true });
  const epoch = Math.floor(nowMs());
  const helpers: ServerProcess[] = [];
  const steps: StepResult[] = [];
  try {
    const model = await startServerProcess('paced-model', { STAMP_EPOCH: String(epoch) }, { logFile: join(scratch, 'model.log') });
    helpers.push(model);
    const client = await startServerProcess('stream-client', {}, { logFile: join(scratch, 'client.log') });
    helpers.push(client);
    await db.sql`CREATE EXTENSION IF NOT EXISTS pg_walinspect`;
    // Each step vacuums what it leaves behind, inside its own measurement (measureStep), so no design's dead rows
    // are cleaned up, and written to the WAL, during another's step.
    await db.sql`
      DO $$ DECLARE t regclass; BEGIN
        FOR t IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' LOOP
          EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)', t);
        END LOOP;
      END $$`;
    const benchUser = await createStoreUser(db.sql, { email: `bench-${randomUUID()}@example.test`, name: 'bench', passwordHash: null });
    let appUser: { id: string; token: string } | undefined;

    const start = async (design: StreamDesign): Promise<Running> => {
      const procs: ServerProcess[] = [];
      try {
        if (isApp(design)) {
          const env = { ...appEnv(db.url, model.url, scratch), METRICS_TOKEN };
          for (let i = 0; i < (design === 'app-2' ? 2 : 1); i++) procs.push(await startServerProcess('ours', env, { logFile: join(scratch, `${design}-${i}.log`) }));
          appUser ??= await createUser(procs[0]!.url);
        } else {
          const env = {
            DATABASE_URL: db.url,
            LLM_BASE_URL: model.url,
            SYSTEM_PROMPT: BENCH_REPORT,
            POOL_MAX: '20',
            SAVE: SAVE_MODE[design]!,
            MODEL_CLIENT: design === 'relay-sdk' ? 'ai-sdk' : 'bare',
          };
          procs.push(await startServerProcess('baseline', env, { logFile: join(scratch, `${design}.log`) }));
        }
      } catch (err) {
        for (const p of procs) await p.close().catch(() => {});
        throw err;
      }
      return { design, procs, idle: [] };
    };

    const step = (running: Running, n: number, seconds: number, kind: StepResult['kind'], walKinds = false) =>
      measureStep({ ctx, db, model, client, running, n, seconds, kind, walKinds, epoch, owner: isApp(running.design) ? appUser! : { id: benchUser.id, token: '' } });

    let appMax: number | undefined;
    for (const design of o.designs) {
      const running = await start(design);
      try {
        // Compile and warm the server (JIT, pools, prepared statements), then note what it holds idle.
        await step(running, Math.min(20, o.startN), Math.min(2, o.seconds), 'warm-up');
        running.idle = await Promise.all(running.procs.map((p) => p.usage(true)));
        const first = design === 'every-chunk' ? o.smallN : design === 'app-2' && appMax ? appMax : o.startN;
        if (SAVE_MODE[design] !== 'none') {
          // WAL against answer length, at the N the ramp starts with; the full length is the ramp's first step.
          for (const seconds of [o.seconds / 4, o.seconds / 2]) steps.push(await step(running, first, seconds, 'wal', true));
        }
        const ramp = async (n: number) => {
          const result = await step(running, n, o.seconds, 'ramp', n === first && SAVE_MODE[design] !== 'none');
          steps.push(result);
          log(
            `streaming ${design} N=${n}: p99 ${result.delays.p99.toFixed(1)} ms, ${result.failures} failed` +
              `${result.firstErrors.length ? ` (${result.firstErrors[0]})` : ''}, load ${result.load1}`,
          );
          return result.passed;
        };
        // Up from the first N until a step fails; when the very first one fails, down until one passes, so that
        // every design has a largest N that passed (or none above smallN).
        let passedAt: number | undefined;
        let failedAt: number | undefined;
        for (let n = first; n <= o.maxN; n = Math.round(n * o.factor)) {
          if (!(await ramp(n))) {
            failedAt = n;
            break;
          }
          passedAt = n;
        }
        for (let n = Math.round(first / o.factor); passedAt === undefined && n >= o.smallN; n = Math.round(n / o.factor)) {
          if (await ramp(n)) passedAt = n;
          else failedAt = n;
        }
        // One step between the largest N that passed and the smallest that failed: the largest is then known within
        // a factor of √2 rather than 2.
        const between = passedAt !== undefined && failedAt !== undefined ? Math.round(Math.sqrt(passedAt * failedAt)) : undefined;
        if (between !== undefined && between > passedAt! && between < failedAt! && (await ramp(between))) passedAt = between;
        if (design === 'app') appMax = passedAt;
      } finally {
        for (const p of running.procs) await p.close().catch((err: unknown) => log(`could not close ${design}: ${String(err)}`));
      }
    }
  } finally {
    for (const p of helpers) await p.close().catch(() => {});
    await db.drop();
  }
  return streamingReport(steps, o, ctx.options.quick);
}

interface StepArgs {
  ctx: SuiteContext;
  db: BenchDatabase;
  model: ServerProcess;
  client: ServerProcess;
  running: Running;
  n: number;
  seconds: number;
  kind: StepResult['kind'];
  /** Break the step's WAL down by record type (pg_walinspect). */
  walKinds: boolean;
  epoch: number;
  owner: { id: string; token: string };
}

/** N answers of `seconds` each, started over the stagger; what they cost the server and the database. */
async function measureStep(args: StepArgs): Promise<StepResult> {
  const { ctx, db, model, client, running, n, seconds, kind, walKinds, epoch, owner } = args;
  const o = ctx.options.streaming;
  const { design, procs } = running;
  const chunks = Math.max(1, Math.round(seconds * o.pace));
  const reports = await inBatches(Array.from({ length: n }), 16, (_, i) =>
    createReport(db.sql, { ownerId: owner.id, title: `${design} ${n} ${i}`, content: BENCH_REPORT, status: 'complete' }),
  );
  const convRows = await db.sql<{ reportId: string; id: string }[]>`
    SELECT report_id, id FROM conversations WHERE report_id = ANY(${reports.map((r) => r.id)}::uuid[])`;
  const convOf = new Map(convRows.map((r) => [r.reportId, r.id]));
  const answers: StreamRun['answers'] = reports.map((report, i) => {
    const body = JSON.stringify({ id: randomUUID(), content: `Stream ${design}-${n}-${i}: chunks=${chunks} pace=${o.pace}` });
    const proc = procs[i % procs.length]!;
    return isApp(design)
      ? { url: `${proc.url}/api/reports/${report.id}/messages`, headers: bearer(owner.token), body }
      : { url: `${proc.url}/baseline/${convOf.get(report.id)!}/messages`, headers: {}, body };
  });

  const lengthMs = seconds * 1000;
  const steadyFrom = o.staggerMs + 0.25 * lengthMs;
  const gcAfter = o.staggerMs + 0.5 * lengthMs;
  const steadyTo = o.staggerMs + 0.75 * lengthMs;
  await db.sql`VACUUM`;
  await db.sql`CHECKPOINT`; // every step starts from a server checkpoint: the same full-page images to write
  await model.request({ type: 'model-stats', reset: true }, 'model-stats');
  const wal0 = await lsn(db);
  const u0 = await Promise.all(procs.map((p) => p.usage()));
  const t0 = nowMs();
  const exclude = { from: t0 + gcAfter - Math.min(250, 0.02 * lengthMs), to: t0 + gcAfter + Math.min(2_500, 0.08 * lengthMs) };
  const run: StreamRun = { answers, staggerMs: o.staggerMs, chunks, timeoutMs: lengthMs + 30_000, epoch, requireSaved: !isRelay(design), exclude };
  // --profile: which allocations made since the step began are still alive mid-stream (after the full GCs).
  const heapFiles = ctx.options.profile && kind === 'ramp' && isApp(design) ? procs.map((_, i) => join(RESULTS_DIR, `streaming-${design}-${n}-p${i}.heapprofile.json`)) : [];
  for (const p of heapFiles.length ? procs : []) await p.request({ type: 'heap-profile-start' }, 'profiling');
  const ran = client.request({ type: 'stream-run', run }, 'stream-result', o.staggerMs + lengthMs + 90_000);
  ran.catch(() => {}); // awaited below, after the samples taken while it runs

  const sample = async () => ({ at: nowMs(), commits: await commits(db), saves: await savesSoFar(design, procs) });
  await sleep(t0 + steadyFrom - nowMs());
  const a = await sample();
  // --profile: V8's sampler in each server process over the steady quarter before the memory reading.
  const profileFiles = ctx.options.profile && kind === 'ramp' ? procs.map((_, i) => join(RESULTS_DIR, `streaming-${design}-${n}-p${i}.cpuprofile.json`)) : [];
  if (profileFiles.length) mkdirSync(RESULTS_DIR, { recursive: true });
  for (const p of profileFiles.length ? procs : []) await p.request({ type: 'profile-start' }, 'profiling');
  await sleep(t0 + gcAfter - nowMs());
  for (const [i, file] of profileFiles.entries()) {
    await procs[i]!.request({ type: 'profile-stop', file }, 'profiling');
    logProfile(ctx, `${design} N=${n} process ${i}`, file);
  }
  const gcStart = nowMs();
  const mid = kind === 'warm-up' ? u0 : await Promise.all(procs.map((p) => p.usage(true)));
  const gcMs = nowMs() - gcStart;
  for (const [i, file] of heapFiles.entries()) {
    await procs[i]!.request({ type: 'heap-profile-stop', file }, 'profiling');
    const heap = summarizeHeapProfile(file);
    ctx.log(`heap profile ${design} N=${n} process ${i}: ${(heap.totalBytes / 1024 / n).toFixed(1)} KiB sampled alive per answer (${file})`);
    for (const o of heap.byOwner) ctx.log(`  owner ${(o.bytes / 1024 / n).toFixed(1).padStart(7)} KiB/answer ${o.owner}`);
    for (const f of heap.topSites) ctx.log(`  site  ${(f.bytes / 1024 / n).toFixed(1).padStart(7)} KiB/answer ${f.site}`);
  }
  await sleep(t0 + steadyTo - nowMs());
  const b = await sample();
  const { result } = await withDeadline(`streaming ${design} N=${n}`, o.staggerMs + lengthMs + 120_000, ran);
  const u1 = await Promise.all(procs.map((p) => p.usage()));
  // Cleaning up after the answers (their dead row versions and pieces) is part of what they cost.
  await db.sql`VACUUM`;
  const walBytes = await walSince(db, wal0);
  const kinds = walKinds ? await walByKind(db, wal0, n) : undefined;
  const { stats } = await model.request({ type: 'model-stats', reset: true }, 'model-stats');

  const sum = (pick: (i: number) => number) => procs.reduce((s, _, i) => s + pick(i), 0);
  const cpuMs = sum((i) => u1[i]!.cpuUs - u0[i]!.cpuUs) / 1000;
  const textBytes = chunks * STAMP_CHARS;
  const windowS = (b.at - a.at) / 1000;
  return {
    design,
    kind,
    n,
    seconds,
    chunks,
    passed: result.failures === 0 && result.delays.p99 <= o.p99LimitMs,
    failures: result.failures,
    firstErrors: result.firstErrors,
    delays: result.delays,
    excluded: result.excluded,
    gcMs,
    serverCpuPct: (cpuMs / result.wallMs) * 100,
    cpuMsPerAnswer: cpuMs / n,
    rssKiBPerAnswer: running.idle.length ? sum((i) => mid[i]!.rss - running.idle[i]!.rss) / n / 1024 : Number.NaN,
    heapKiBPerAnswer: running.idle.length ? sum((i) => mid[i]!.heapUsed + mid[i]!.external - running.idle[i]!.heapUsed - running.idle[i]!.external) / n / 1024 : Number.NaN,
    textBytes,
    walPerAnswer: walBytes / n,
    walPerAnswerByte: walBytes / n / textBytes,
    walKinds: kinds,
    commitsPerSecond: (b.commits - a.commits) / windowS,
    savesPerSecond: b.saves === undefined || a.saves === undefined ? undefined : (b.saves - a.saves) / windowS,
    clientCpuPct: (result.clientCpuMs / result.wallMs) * 100,
    modelLatenessP99Ms: stats.latenessP99Ms,
    load1: load1(),
  };
}

function logProfile(ctx: SuiteContext, what: string, file: string): void {
  const summary = summarizeProfile(file, 25);
  const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
  ctx.log(`profile ${what}: ${summary.busyMs.toFixed(0)} ms busy, ${summary.idleMs.toFixed(0)} ms idle (${file})`);
  for (const o of summary.byOwner.slice(0, 15)) ctx.log(`  owner ${pct(o.share).padStart(6)} ${o.owner}`);
  for (const f of summary.topFunctions) ctx.log(`  self  ${pct(f.share).padStart(6)} ${f.fn} ${f.where}`);
  for (const f of summary.topSrcInclusive) ctx.log(`  incl  ${pct(f.share).padStart(6)} ${f.fn} ${f.where}`);
}

const lsn = async (db: BenchDatabase) => (await db.sql<{ l: string }[]>`SELECT pg_current_wal_lsn()::text AS l`)[0]!.l;
const walSince = async (db: BenchDatabase, from: string) =>
  Number((await db.sql<{ b: string }[]>`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ${from}::pg_lsn)::bigint AS b`)[0]!.b);

/** The WAL since `from` per answer, by record type (full-page images with their records, and apart), largest first. */
const walByKind = (db: BenchDatabase, from: string, n: number) =>
  db.sql<{ kind: string; records: number; bytes: number; fpiBytes: number }[]>`
    SELECT "resource_manager/record_type" AS kind, count::float8 / ${n} AS records, combined_size::float8 / ${n} AS bytes,
           fpi_size::float8 / ${n} AS "fpiBytes"
    FROM pg_get_wal_stats(${from}::pg_lsn, pg_current_wal_lsn(), true)
    WHERE count > 0 ORDER BY combined_size DESC LIMIT 8`;

/** Transactions committed in the bench database so far (pg_stat_database; backends report them within a second or so). */
const commits = async (db: BenchDatabase) =>
  Number((await db.sql<{ n: string }[]>`SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()`)[0]!.n);

/**
 * Statements that saved streaming text so far: the app's checkpoint statements, one per instance per tick whatever
 * the number of answers (report_chat_checkpoint_statements_total, from its GET /metrics), the every-chunk server's
 * UPDATEs (over IPC); none for the relay.
 */
async function savesSoFar(design: StreamDesign, procs: ServerProcess[]): Promise<number | undefined> {
  if (isRelay(design)) return undefined;
  let total = 0;
  for (const p of procs) {
    if (!isApp(design)) {
      total += (await p.usage()).saves ?? 0;
      continue;
    }
    const res = await fetch(`${p.url}/metrics`, { headers: bearer(METRICS_TOKEN) });
    const text = await res.text();
    for (const line of text.split('\n')) if (line.startsWith('report_chat_checkpoint_statements_total{')) total += Number(line.split(' ').at(-1));
  }
  return total;
}
