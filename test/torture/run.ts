/**
 * `npm run torture`: the list-append torture test (test/torture/README.md). Starts PostgreSQL (embedded, behind a relay so it can
 * be restarted), a fake model server and N instances of `report-chat serve`; runs simulated tabs against them for a
 * set time while injecting faults; then checks the recorded history (test/torture/checker.ts), prints a summary,
 * writes the history as JSON lines, and exits 1 on any anomaly.
 *
 *   npm run torture                      # 5 minutes, 3 instances, every fault kind
 *   npm run torture -- --short           # about 2 minutes in all (CI)
 *   npm run torture -- --duration 900 --seed 7 --out /tmp/history.jsonl
 *
 * Options (or env TORTURE_<NAME>, e.g. TORTURE_SHORT=1): --duration <s>, --instances <n>, --reports <n>,
 * --writers <per report>, --forkers <per report>, --readers <n>, --subscribers <n>, --lease-ms <ms>, --seed <n>, --out <file>,
 * --faults <kind,kind|all|none>.
 *
 * Topology: --via nginx|haproxy puts the proxy of deploy/ in front of the instances (every request of the
 * tabs goes through it); --rolling replaces the random faults by rolling restarts of the instances, one by one.
 * Failover: --failover runs PostgreSQL as a primary and a synchronous standby (test/torture/replicated.ts)
 * with the instances on a multi-host URL, and injects failovers (SIGKILL of the primary, promotion, rebuild) unless
 * --faults names other kinds too (any but pg-restart); --async makes the standby asynchronous, to count what that
 * loses. Env TORTURE_FAILOVER=1, TORTURE_ASYNC=1.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/store/embedded-postgres.js';
import { connect } from '../../src/store/db.js';
import { runMigrations } from '../../src/store/migrate.js';
import { startFakeOpenAI } from '../fakes/fake-openai-server.js';
import type { FakeProviderServer } from '../fakes/fake-behavior.js';
import { check, countByKind, ANOMALY_KINDS, type Anomaly, type FaultKind, type History, type SendOp, type StoredConversation } from './checker.js';
import { Database, Instance, randomModelBehavior, seededRandom } from './cluster.js';
import { FAILOVER, FAULT_KINDS, runFaults, type FaultResults, type TortureDatabase } from './faults.js';
import { ReplicatedDatabase } from './replicated.js';
import { forkerTab } from './forker.js';
import { mainTarget, Recorder, readerTab, Subscriber, writerTab, type ReportRef, type World } from './tabs.js';
import { runRollingRestarts } from './rolling.js';
import { PROXY_KINDS, startProxy, type ProxyKind, type RunningProxy } from '../support/proxies.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ADMIN_TOKEN = `torture-admin-${randomUUID()}`;

interface Options {
  durationS: number;
  instances: number;
  reports: number;
  writers: number;
  forkers: number;
  readers: number;
  subscribers: number;
  leaseMs: number;
  seed: number;
  out: string;
  short: boolean;
  faults: FaultKind[];
  // Topology
  via: ProxyKind | undefined;
  rolling: boolean;
  // Failover
  failover: boolean;
  async: boolean;
}

function parseOptions(argv: string[]): Options {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    const next = argv[i + 1];
    if (inline !== undefined) flags.set(name, inline);
    else if (next !== undefined && !next.startsWith('--')) flags.set(name, argv[++i]!);
    else flags.set(name, 'true');
  }
  const get = (name: string) => flags.get(name) ?? process.env[`TORTURE_${name.toUpperCase().replaceAll('-', '_')}`];
  const num = (name: string, fallback: number) => {
    const raw = get(name);
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number (got ${raw})`);
    return n;
  };
  const yes = (name: string) => ['1', 'true', 'yes'].includes(get(name) ?? '');
  const short = yes('short');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    short,
    durationS: num('duration', short ? 100 : 300),
    instances: num('instances', 3),
    reports: num('reports', short ? 8 : 12),
    writers: num('writers', 3),
    forkers: num('forkers', 1),
    readers: num('readers', short ? 3 : 5),
    subscribers: num('subscribers', short ? 10 : 16),
    leaseMs: num('lease-ms', 3_000),
    seed: num('seed', Math.floor(Math.random() * 1_000_000)),
    out: get('out') ?? join(tmpdir(), 'report-chat-torture', `history-${stamp}.jsonl`),
    faults: parseFaults(get('faults')),
    // Topology
    via: parseVia(get('via')),
    rolling: ['1', 'true', 'yes'].includes(get('rolling') ?? ''),
    ...parseFailover(yes('failover'), yes('async'), get('faults')),
  };
}

// Failover: on a replicated database every fault kind but pg-restart applies, failover by default.
function parseFailover(failover: boolean, async: boolean, rawFaults: string | undefined): Partial<Options> & Pick<Options, 'failover' | 'async'> {
  if (async && !failover) throw new Error('--async applies to --failover runs only');
  if (!failover) return { failover, async };
  if (rawFaults === undefined || rawFaults === '') return { failover, async, faults: [FAILOVER] };
  const kinds = rawFaults === 'all' ? [...FAULT_KINDS, FAILOVER] : parseFaults(rawFaults);
  if (kinds.includes('pg-restart')) {
    if (rawFaults !== 'all') throw new Error('--failover: pg-restart does not apply (failover is the database fault here)');
  }
  return { failover, async, faults: kinds.filter((k) => k !== 'pg-restart') };
}

function parseFaults(raw: string | undefined): FaultKind[] {
  if (raw === undefined || raw === '' || raw === 'all') return [...FAULT_KINDS];
  if (raw === 'none') return [];
  const kinds = raw.split(',').map((k) => k.trim());
  const known = [...FAULT_KINDS, FAILOVER];
  for (const k of kinds) if (!known.includes(k as FaultKind)) throw new Error(`--faults: unknown kind ${k} (${known.join(', ')})`);
  return kinds as FaultKind[];
}

function parseVia(raw: string | undefined): ProxyKind | undefined {
  if (raw === undefined || raw === '' || raw === 'none') return undefined;
  if (!PROXY_KINDS.includes(raw as ProxyKind)) throw new Error(`--via: ${raw} is not one of ${PROXY_KINDS.join(', ')}`);
  return raw as ProxyKind;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const random = seededRandom(options.seed);
  const say = (line: string) => process.stdout.write(`[torture ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  mkdirSync(dirname(options.out), { recursive: true });
  const logDir = options.out.replace(/\.jsonl$/, '') + '-logs';
  mkdirSync(logDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'report-chat-torture-'));
  // Ours, so opened to traversal: as root the embedded PostgreSQL runs as `postgres` and must reach its cluster here.
  chmodSync(work, 0o755);
  say(`seed ${options.seed}; ${options.instances} instances, ${options.reports} reports, ${options.durationS} s; logs in ${logDir}`);

  let fake: FakeProviderServer | undefined;
  let db: TortureDatabase | undefined;
  let proxy: RunningProxy | undefined;
  const instances: Instance[] = [];
  const world: World = { rec: new Recorder(), random, instances, stopping: false, targets: [], subscribers: [] };
  const abort = new AbortController();
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await proxy?.stop().catch(() => {});
      await Promise.all(instances.map((i) => i.close().catch(() => {})));
      await db?.stop().catch(() => {});
      await fake?.close().catch(() => {});
      rmSync(work, { recursive: true, force: true });
    })());
  let interrupted = false;
  const onSignal = () => {
    // Kept for every signal (a terminal's Ctrl+C may come twice): a second one must not end us before the cleanup.
    if (interrupted) return;
    interrupted = true;
    say('interrupted: cleaning up');
    world.stopping = true;
    abort.abort();
    for (const i of instances) i.retire();
    // Whatever step is waiting (a start, a drain), the processes and the temporary folder go within 20 s.
    setTimeout(() => {
      void Promise.race([cleanup(), sleep(20_000)]).then(() => {
        rmSync(work, { recursive: true, force: true });
        process.exit(130);
      });
    }, 20_000).unref();
  };
  // embedded-postgres hooks these signals when imported (async-exit-hook) to stop its server and exit at once; ours
  // replace them, to stop the instances first and remove the temporary folder (as src/cli.ts does for the server).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    for (const listener of process.listeners(signal)) process.removeListener(signal, listener);
    process.on(signal, onSignal);
  }
  const harnessProblems: string[] = [];

  try {
    fake = await startFakeOpenAI({ behavior: randomModelBehavior(random) });
    const fakeRequests = fake.requests;
    const trimRequests = setInterval(() => fakeRequests.splice(0), 2_000);
    trimRequests.unref();
    db = options.failover ? await ReplicatedDatabase.start(join(work, 'pg'), !options.async) : await Database.start(join(work, 'pg'), REPO);
    const migrator = connect(db.url, { max: 2, applicationName: 'torture-migrate' });
    await runMigrations(migrator);
    await migrator.end({ timeout: 5 });
    say(`PostgreSQL up (${db.description}); fake model at ${fake.baseUrl}`);

    for (let i = 0; i < options.instances; i++) {
      const port = await freePort();
      instances.push(
        new Instance(
          i,
          port,
          {
            DATABASE_URL: db.url,
            HOST: '127.0.0.1',
            DATA_DIR: join(work, `instance-${i}`),
            SEED_DEMO: 'false',
            ADMIN_TOKEN,
            LLM_PROVIDER: 'openai-compatible',
            LLM_BASE_URL: fake.baseUrl,
            LLM_MODEL: 'fake-model',
            LLM_API_KEY: 'torture',
            RATE_LIMIT_PER_HOUR: '0',
            RATE_LIMIT_PER_DAY: '0',
            TURN_LEASE_MS: String(options.leaseMs),
            CONTEXT_MAX_TOKENS: '2000',
            // The forkers create a conversation every few seconds: a long run must not reach the per-person limit.
            MAX_CONVERSATIONS_PER_REPORT: '1000000',
            LOG_LEVEL: 'warn',
            // Behind --via's proxy the client address is the proxy's X-Forwarded-For (one hop).
            ...(options.via ? { TRUST_PROXY: '1' } : {}),
          },
          join(logDir, `instance-${i}.log`),
          REPO,
        ),
      );
    }
    await Promise.all(instances.map((i) => i.startFirst(freePort)));
    say(`instances up on ports ${instances.map((i) => i.port).join(', ')}`);
    if (options.via) {
      proxy = await startProxy(options.via, instances.map((i) => i.port));
      world.via = proxy.url;
      // The proxy's certificate is the self-signed one its start made, for this run only.
      if (proxy.url.startsWith('https:')) process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
      say(`${options.via} in front of them at ${proxy.url}`);
    }

    const reports = await createReports(instances[0]!, options.reports);
    const tabs: Array<Promise<void>> = [];
    world.targets.push(...reports.map(mainTarget));
    for (const [r, report] of reports.entries()) {
      for (let w = 0; w < options.writers; w++) tabs.push(writerTab(world, `w${r}.${w}`, mainTarget(report)));
      for (let f = 0; f < options.forkers; f++) tabs.push(forkerTab(world, `f${r}.${f}`, report));
    }
    for (let i = 0; i < options.readers; i++) tabs.push(readerTab(world, `r${i}`));
    for (let i = 0; i < options.subscribers; i++) world.subscribers.push(new Subscriber(world, `s${i}`, mainTarget(reports[i % reports.length]!)).start());

    const durationMs = options.durationS * 1_000;
    const faultResults: FaultResults = { badExits: [], errors: [] };
    const faults = options.rolling
      ? runRollingRestarts(world, { firstAt: Math.min(8_000, durationMs / 10), lastStartAt: durationMs - 12_000, settleMs: 2_000 }, faultResults)
      : runFaults(
          world,
          db,
          {
            kinds: options.faults,
            firstAt: Math.min(8_000, durationMs / 10),
            minGapMs: options.short ? 4_000 : 6_000,
            maxGapMs: options.short ? 8_000 : 14_000,
            lastStartAt: durationMs - 12_000,
            leaseMs: options.leaseMs,
          },
          faultResults,
        );
    const progress = setInterval(() => {
      const sends = world.rec.ops.filter((o): o is SendOp => o.type === 'send');
      const ok = sends.filter((s) => s.outcome === 'ok').length;
      const faultsSoFar = world.rec.ops.filter((o) => o.type === 'fault').length;
      say(`${Math.round(world.rec.now() / 1000)} s: ${sends.length} sends (${ok} acknowledged), ${faultsSoFar} faults; instances ${instances.map((i) => i.state).join('/')}`);
    }, 15_000);
    progress.unref();

    await sleep(Math.max(0, durationMs - world.rec.now()), undefined, { signal: abort.signal }).catch(() => {});
    world.stopping = true;
    say('time is up: letting the tabs finish');
    await faults;
    await withTimeout(Promise.all(tabs), 150_000, () => harnessProblems.push('some tabs did not finish within 150 s'));
    clearInterval(progress);
    if (abort.signal.aborted) return 130;

    // Everyone back: frozen ones continue, dead ones start; then every answer must end (leases expire, sweeps run).
    for (const inst of instances) inst.resume();
    await Promise.all(instances.filter((i) => i.state === 'down').map((i) => i.start()));
    if (!(await waitFor(() => instances.every((i) => i.state === 'up'), 120_000))) harnessProblems.push('an instance did not come back up');
    const drained = await waitForTerminal(db, 120_000);
    if (!drained) harnessProblems.push('answers were still queued or streaming 120 s after the run');

    const final = await readFinal(db, reports);
    const versions = new Map(final.map((c) => [c.conversation, c.version]));
    const subscribers = world.subscribers;
    const caughtUp = await waitFor(() => subscribers.every((s) => s.lastVersion >= (versions.get(s.target.conversation) ?? 0)), 60_000);
    if (!caughtUp) say('some events subscribers did not reach the final version within 60 s');
    for (const s of subscribers) s.stop();
    await withTimeout(Promise.all(subscribers.map((s) => s.done)), 30_000, () => harnessProblems.push('some subscribers did not stop'));

    // Graceful shutdown of every instance: SIGTERM must end each with exit code 0.
    const exits = await Promise.all(instances.map(async (i) => [i, await i.terminate()] as const));
    for (const [inst, code] of exits) if (code !== 0) faultResults.badExits.push(`${inst.name}: SIGTERM at the end ended it with ${String(code)}`);

    const history: History = { ops: world.rec.ops, subscribers: subscribers.map((s) => s.record()), final };
    const anomalies = check(history);
    const crashes = instances.flatMap((i) => i.crashes.map((c) => `${i.name} ${c}`));
    writeHistory(options, history, anomalies, [...faultResults.badExits, ...crashes, ...harnessProblems]);
    printSummary(say, options, history, anomalies, { badExits: faultResults.badExits, crashes, harnessProblems, faultErrors: faultResults.errors });
    const failed = anomalies.length + faultResults.badExits.length + crashes.length + harnessProblems.length;
    say(failed === 0 ? 'PASS: no anomalies' : `FAIL: ${failed} problem(s); history in ${options.out}`);
    return failed === 0 ? 0 : 1;
  } finally {
    await cleanup();
  }
}

async function createReports(inst: Instance, count: number): Promise<ReportRef[]> {
  const reports: ReportRef[] = [];
  for (let i = 0; i < count; i++) {
    const user = await post(inst, '/api/users', ADMIN_TOKEN, { email: `torture-${i}-${randomUUID().slice(0, 8)}@example.com` });
    const token = (user as { token: string }).token;
    const content = `# Incident ${i}\n\nThe cache was cold after the deploy, so every request went to the database.\n\n## Fix\n\nWarm the cache before taking traffic.`;
    const { id } = (await post(inst, '/api/reports', token, { title: `Incident ${i}`, content })) as { id: string };
    const res = await fetch(`${inst.url}/api/reports/${id}/conversations`, { headers: { authorization: `Bearer ${token}` } });
    const { conversations } = (await res.json()) as { conversations: { id: string; isMain: boolean }[] };
    reports.push({ id, token, mainConversation: conversations.find((c) => c.isMain)!.id });
  }
  return reports;
}

async function post(inst: Instance, path: string, token: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${inst.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(250);
  }
  return condition();
}

async function withTimeout(promise: Promise<unknown>, ms: number, onTimeout: () => void): Promise<void> {
  const timedOut = await Promise.race([promise.then(() => false), sleep(ms, true, { ref: false })]);
  if (timedOut) onTimeout();
}

function waitForTerminal(db: TortureDatabase, timeoutMs: number): Promise<boolean> {
  return waitFor(async () => {
    try {
      const [row] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM messages WHERE status IN ('queued', 'streaming')`;
      return row?.n === 0;
    } catch {
      return false;
    }
  }, timeoutMs);
}

/** Every conversation of the run's reports, the forks included, as stored at the end. */
async function readFinal(db: TortureDatabase, reports: ReportRef[]): Promise<StoredConversation[]> {
  const out: StoredConversation[] = [];
  for (const report of reports) {
    const conversations = await db.sql<
      { id: string; version: string; is_main: boolean; forked_from_conversation_id: string | null; forked_from_seq: string | null }[]
    >`SELECT id, version, is_main, forked_from_conversation_id, forked_from_seq FROM conversations WHERE report_id = ${report.id} ORDER BY created_at`;
    for (const conv of conversations) {
      const rows = await db.sql<
        {
          id: string;
          seq: string;
          role: 'user' | 'assistant';
          status: string;
          content: string;
          reply_to: string | null;
          changed_version: string;
          copied_from: string | null;
          sources: string;
        }[]
      >`SELECT id, seq, role, status, content, reply_to, changed_version, copied_from,
               (SELECT coalesce(string_agg(format('%s:%s-%s', s->>'n', s->>'start', s->>'end'), ',' ORDER BY o), '')
                FROM jsonb_array_elements(sources) WITH ORDINALITY AS x(s, o)) AS sources
        FROM messages WHERE conversation_id = ${conv.id} ORDER BY seq`;
      out.push({
        report: report.id,
        conversation: conv.id,
        isMain: conv.is_main,
        forkedFrom: conv.forked_from_conversation_id === null ? null : { conversation: conv.forked_from_conversation_id, seq: Number(conv.forked_from_seq) },
        version: Number(conv.version),
        messages: rows.map((r) => ({
          id: r.id,
          seq: Number(r.seq),
          role: r.role,
          status: r.status,
          content: r.content,
          replyTo: r.reply_to,
          changedVersion: Number(r.changed_version),
          copiedFrom: r.copied_from,
          sources: r.sources,
        })),
      });
    }
  }
  return out;
}

function writeHistory(options: Options, history: History, anomalies: Anomaly[], problems: string[]): void {
  const out = createWriteStream(options.out);
  out.write(`${JSON.stringify({ type: 'meta', seed: options.seed, options })}\n`);
  for (const op of history.ops) out.write(`${JSON.stringify(op)}\n`);
  for (const s of history.subscribers) out.write(`${JSON.stringify(s)}\n`);
  for (const c of history.final) out.write(`${JSON.stringify({ type: 'final', ...c })}\n`);
  for (const a of anomalies) out.write(`${JSON.stringify({ type: 'anomaly', ...a })}\n`);
  for (const p of problems) out.write(`${JSON.stringify({ type: 'problem', message: p })}\n`);
  out.end();
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function printSummary(
  say: (line: string) => void,
  options: Options,
  history: History,
  anomalies: Anomaly[],
  extra: { badExits: string[]; crashes: string[]; harnessProblems: string[]; faultErrors: string[] },
): void {
  const lines: string[] = [];
  const row = (cells: Array<string | number>, widths: number[]) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  ');
  const w = [28, 8, 8, 8, 8];
  lines.push(`report-chat torture: ${options.durationS} s, ${options.instances} instances, ${options.reports} reports, seed ${options.seed}`);
  if (options.failover) {
    const failovers = history.ops.filter((o) => o.type === 'fault' && o.kind === FAILOVER && !o.detail?.startsWith('failed')).length;
    lines.push(`database: a primary and a${options.async ? 'n ASYNCHRONOUS' : ' synchronous'} standby; ${failovers} failovers`);
    // Fewer than 5 failovers (a short run, a starved machine) proves little about failover: said, as a low turn count is.
    if (failovers < 5) lines.push(`note: only ${failovers} failovers (at least 5 are asked for): this run proves less`);
  }
  lines.push('', row(['operation', 'ok', 'failed', 'unknown', 'total'], w));
  const kinds = new Map<string, { ok: number; failed: number; unknown: number }>();
  for (const op of history.ops) {
    if (op.type === 'fault') continue;
    const key =
      op.type === 'send'
        ? `send ${op.purpose}${op.mode === 'json' ? ' (json)' : ''}${op.disconnected ? ' (left)' : ''}`
        : op.type === 'fork'
          ? op.source === null
            ? 'start conversation'
            : `fork${op.before?.receiving ? ' (source receiving)' : ''}`
          : op.type;
    const k = kinds.get(key) ?? { ok: 0, failed: 0, unknown: 0 };
    k[op.outcome]++;
    kinds.set(key, k);
  }
  for (const [key, k] of [...kinds].sort()) lines.push(row([`  ${key}`, k.ok, k.failed, k.unknown, k.ok + k.failed + k.unknown], w));
  const faults = new Map<FaultKind, number>();
  for (const op of history.ops) if (op.type === 'fault') faults.set(op.kind, (faults.get(op.kind) ?? 0) + 1);
  lines.push('', row(['fault', 'count'], w));
  for (const kind of options.failover ? [...FAULT_KINDS, FAILOVER] : FAULT_KINDS) lines.push(row([`  ${kind}`, faults.get(kind) ?? 0], w));
  lines.push('', row(['anomaly', 'count'], w));
  const counts = countByKind(anomalies);
  for (const kind of ANOMALY_KINDS) lines.push(row([`  ${kind}`, counts[kind]], w));
  lines.push(row(['  unclean exit (SIGTERM)', extra.badExits.length], w));
  lines.push(row(['  crash', extra.crashes.length], w));
  lines.push(row(['  harness', extra.harnessProblems.length], w));

  const sends = history.ops.filter((o): o is SendOp => o.type === 'send');
  const ttft = sends.flatMap((s) => (s.firstTokenMs !== undefined && s.purpose === 'fresh' ? [s.firstTokenMs] : [])).sort((a, b) => a - b);
  const answers = new Map<string, number>();
  let turns = 0;
  let turnsInForks = 0;
  let copies = 0;
  for (const c of history.final) {
    for (const m of c.messages) {
      // A fork's copies were counted in their source.
      if (m.copiedFrom) copies++;
      else if (m.role === 'user') {
        turns++;
        if (!c.isMain) turnsInForks++;
      } else answers.set(m.status, (answers.get(m.status) ?? 0) + 1);
    }
  }
  const forkCalls = history.ops.filter((o) => o.type === 'fork');
  const refusedAs = (code: string) => forkCalls.filter((o) => o.outcome === 'failed' && o.error === code).length;
  const savedTrue = sends.filter((s) => s.saved === true).length;
  const savedFalse = sends.filter((s) => s.saved === false).length;
  lines.push('');
  lines.push(`turns stored: ${turns}; answers ${[...answers].map(([s, n]) => `${s} ${n}`).join(', ')}`);
  lines.push(
    `conversations: ${history.final.length} (${history.final.filter((c) => c.isMain).length} main, ` +
      `${history.final.filter((c) => c.forkedFrom).length} forks, the rest started empty); ${copies} messages copied by forks; ` +
      `${turnsInForks} turns sent into forks and new conversations; forks refused: ${refusedAs('conversation_busy')} busy, ` +
      `${refusedAs('invalid_request')} not at the end of a turn`,
  );
  // The default configuration should reach at least 2,000 turns; a starved machine can fall short, and a pass
  // over fewer turns proves less. Said plainly, not failed: the checker's verdict is about correctness.
  if (!options.short && options.durationS >= 300 && turns < 2_000) {
    lines.push(`note: only ${turns} turns (the default configuration aims at 2,000 or more): this run proves less`);
  }
  const missingFaults = [...FAULT_KINDS, FAILOVER].filter((kind) => options.faults.includes(kind) && !faults.get(kind));
  if (missingFaults.length > 0) lines.push(`note: no fault of kind ${missingFaults.join(', ')} was injected in this run`);
  lines.push(`clients told saved: true ${savedTrue}, false ${savedFalse}`);
  lines.push(
    `time to first token (fresh streamed sends, ${ttft.length}; send to first delta, with the wait behind earlier ` +
      `answers of the conversation and the model's own delay): p50 ${percentile(ttft, 50)} ms, ` +
      `p99 ${percentile(ttft, 99)} ms, worst ${ttft.at(-1) ?? 0} ms`,
  );
  const reconnects = history.subscribers.reduce((n, s) => n + s.connects, 0);
  const followed = history.subscribers.reduce((n, s) => n + (s.followedAnswers ?? 0), 0);
  const whole = history.subscribers.reduce((n, s) => n + (s.fullyStreamedAnswers ?? 0), 0);
  lines.push(
    `events subscribers: ${history.subscribers.length}, ${reconnects} connections in all; of ${followed} answers they saw ` +
      `live, ${whole} (${followed ? Math.round((whole / followed) * 100) : 0}%) came whole through deltas`,
  );
  for (const a of anomalies.slice(0, 30)) lines.push(`ANOMALY ${a.kind}: ${a.message}`);
  if (anomalies.length > 30) lines.push(`... and ${anomalies.length - 30} more (see the history file)`);
  for (const p of [...extra.badExits, ...extra.crashes, ...extra.harnessProblems]) lines.push(`PROBLEM: ${p}`);
  for (const e of extra.faultErrors) lines.push(`(a fault could not be injected: ${e})`);
  lines.push(`history: ${options.out}`);
  for (const line of lines) say(line);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`torture: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
