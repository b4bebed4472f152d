import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeOpenAI } from '../../test/fakes/fake-openai-server.js';
import { addMember, appEnv, bearer, createReport, createUser, inBatches } from '../lib/app-fixture.js';
import { startServerProcess, type ServerProcess } from '../lib/child.js';
import { summarizeProfile, type ProfileSummary } from '../lib/cpu-profile.js';
import { createBenchDatabase, readStatements, resetStatements } from '../lib/database.js';
import { openEventStream, postTurn, type EventStream } from '../lib/http-client.js';
import { withDeadline } from '../lib/load.js';
import { load1, RESULTS_DIR } from '../lib/results.js';
import { median, nowMs, summarize, type LatencySummary } from '../lib/stats.js';
import type { SuiteContext, SuiteReport, TargetResult } from '../lib/suite.js';
import { fmt, fmtRatio, renderTable, type Cell } from '../lib/table.js';
import type { Published } from '../servers/protocol.js';
import { sseReader, type Received } from '../lib/sse-reader.js';
import { ANSWER_CHUNKS, question } from './append-approaches.js';

type Pace = 'burst' | 'paced';

interface Round {
  pace: Pace;
  /** From publication on the bus of the instance that generated the turn to arrival, per (stream, event). */
  latency: LatencySummary;
  deltaLatency: LatencySummary;
  /** The same, for the streams of each instance (instance 1 generated the turn). */
  byInstance: LatencySummary[];
  /** Per event and instance: from publication there to the end of its synchronous delivery to every stream. */
  serverLoop: LatencySummary;
  /** Events of instance 2's subscribers: from instance 1's publication to instance 2's (the NOTIFY hop). */
  crossHop?: LatencySummary;
  /** Owed events (user message, deltas, final answer) times streams, and how many of them arrived. */
  expected: number;
  delivered: number;
  /** Owed events whose text never arrived (within 0.5 s after the final answer), by the instance of the stream. */
  missingByInstance: number[];
  /** Deltas that arrived after the stream had received the final answer. */
  afterFinal: number;
  /** The bare node:http baseline, sent the same bytes on the same schedule to as many streams. */
  bare?: { latency: LatencySummary; delivered: number };
}

interface FanoutRun {
  run: number;
  crossInstance: boolean;
  streams: number;
  streamsPerInstance: number[];
  openSeconds: number;
  /** Per open stream, from RSS (and V8 heap) before and after opening them, after full GCs. */
  rssPerStreamKiB: number;
  heapPerStreamKiB: number;
  bareRssPerStreamKiB: number;
  idleQueriesPerSecond: number;
  rounds: Round[];
  load1: number;
}

/**
 * Suite 4: 1,000 open events streams on one report across 2 instances (two startServer processes on one
 * database; if the second does not hear the first's events, all streams go to the first, and the table says so);
 * one turn (a message and its 20 deltas): how long each event takes from its publication on the bus of the
 * instance that generates it to each subscriber; resident memory per open stream. Beside it, a bare node:http
 * fan-out writing the same bytes on the same schedule to as many raw streams.
 */
export async function fanoutSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const { options, server, log } = ctx;
  const o = options.fanout;
  const runs: FanoutRun[] = [];
  const profiles: ProfileSummary[] = [];
  for (let run = 1; run <= options.runs; run++) {
    const db = await createBenchDatabase(server, 'fanout', 4);
    const fake = await startFakeOpenAI({ behavior: { chunks: ANSWER_CHUNKS, chunkDelayMs: 0 } });
    const scratch = join(server.scratchDir, `fanout-${run}`);
    mkdirSync(scratch, { recursive: true });
    const processes: ServerProcess[] = [];
    const streams: EventStream[] = [];
    try {
      const a = await startServerProcess('ours', appEnv(db.url, fake.baseUrl, scratch), { logFile: join(scratch, 'a.log') });
      processes.push(a);
      const b = await startServerProcess('ours', appEnv(db.url, fake.baseUrl, scratch), { logFile: join(scratch, 'b.log') });
      processes.push(b);
      const owner = await createUser(a.url);
      const reportId = await createReport(a.url, owner.token, 'Fan-out');
      const [conv] = await db.sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${reportId}`;
      const conversationId = conv!.id;
      // At most 20 open streams per user and instance (MAX_STREAMS_PER_USER): many viewers, a few tabs each.
      const viewers = await withDeadline(
        'fan-out setup (viewers)',
        180_000,
        inBatches(Array.from({ length: o.users }), 8, async () => {
          const user = await createUser(a.url);
          await addMember(a.url, owner.token, reportId, user.id, 'viewer');
          return user;
        }),
      );
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const post = () =>
        withDeadline('fan-out turn', 60_000, postTurn(agent, `${a.url}/api/reports/${reportId}/messages`, { id: randomUUID(), content: question(`fanout-${run}`) }, bearer(owner.token)));

      // Does instance b hear what instance a publishes (LISTEN/NOTIFY between instances)?
      const probe = await openEventStream(`${b.url}/api/reports/${reportId}/events`, bearer(owner.token));
      await post();
      await sleep(1_500);
      const crossInstance = probe.chunks.some((c) => c.text.includes('event: message'));
      probe.close();
      log(`fanout run ${run}: instance b ${crossInstance ? 'receives' : 'does NOT receive'} instance a's events`);
      const targets = crossInstance ? [a, b] : [a];

      for (const instance of targets) await instance.request({ type: 'watch', conversationId, position: 'first' }, 'watching');
      const offsets = await Promise.all(targets.map((i) => i.clockOffset()));
      const before = await Promise.all(targets.map((i) => i.usage(true)));
      const opened = nowMs();
      const perInstance = Math.ceil(o.streams / targets.length);
      const plan = Array.from({ length: o.streams }, (_, i) => ({ instance: Math.floor(i / perInstance), viewer: viewers[i % viewers.length]! }));
      streams.push(
        ...(await withDeadline(
          'opening the events streams',
          120_000,
          inBatches(plan, 50, (p) => openEventStream(`${targets[p.instance]!.url}/api/reports/${reportId}/events`, bearer(p.viewer.token))),
        )),
      );
      const openSeconds = (nowMs() - opened) / 1000;
      const readers = streams.map(sseReader);
      for (const instance of targets) await instance.request({ type: 'watch', conversationId, position: 'last' }, 'watching');
      await sleep(500);
      const after = await Promise.all(targets.map((i) => i.usage(true)));
      const rssPerStreamKiB = median(after.map((u, i) => (u.rss - before[i]!.rss) / 1024 / perInstance));
      const heapPerStreamKiB = median(after.map((u, i) => (u.heapUsed + u.external - before[i]!.heapUsed - before[i]!.external) / 1024 / perInstance));
      log(`fanout run ${run}: ${streams.length} streams open in ${fmt(openSeconds, 1)} s, ${fmt(rssPerStreamKiB, 1)} KiB RSS each`);

      // What idle streams cost the database (each re-checks its access every 5 s), all statements counted.
      await resetStatements(db);
      await sleep(5_000);
      const idleQueriesPerSecond = (await readStatements(db, 50)).reduce((s, st) => s + st.calls, 0) / 5;

      const rounds: Round[] = [];
      const replays: { pace: Pace; events: { key: string; text: string; delayMs: number }[] }[] = [];
      const profileFile = options.profile ? join(RESULTS_DIR, `fanout-a-run${run}.cpuprofile.json`) : undefined;
      if (profileFile) await a.request({ type: 'profile-start' }, 'profiling');
      for (const pace of ['burst', 'paced'] as const) {
        fake.setBehavior({ chunks: ANSWER_CHUNKS, chunkDelayMs: pace === 'burst' ? 0 : o.pacedChunkMs });
        for (let r = 0; r < o.rounds; r++) {
          for (const reader of readers) reader.take(); // pings and anything before this round
          await Promise.all(targets.map((i) => i.request({ type: 'published' }, 'published')));
          const turn = await post();
          if (!turn.saved) throw new Error('fan-out turn not saved');
          const received = await collect(readers, (events) => events.some((e) => /"role":"assistant"[^\n]*"status":"complete"/.test(e.text)), 10_000);
          // Anything still in flight after the final answer (late deltas) is counted, not mistaken for lost.
          await sleep(500);
          readers.forEach((reader, i) => received[i]!.push(...reader.take()));
          const lists = (await Promise.all(targets.map((i) => i.request({ type: 'published' }, 'published')))).map((l, i) =>
            l.events.map((e) => ({ key: e.key, at: e.at - offsets[i]! })),
          );
          rounds.push({ pace, ...deliveryLatencies(received, lists, (i) => Math.floor(i / perInstance)) });
          replays.push({ pace, events: schedule(received[0] ?? [], lists[0] ?? []) });
        }
      }
      if (profileFile) {
        await a.request({ type: 'profile-stop', file: profileFile }, 'profiling');
        profiles.push(summarizeProfile(profileFile));
      }
      agent.destroy();
      for (const s of streams.splice(0)) s.close();

      // The bare baseline: as many raw streams, split the same way, sent the same bytes on the same schedule.
      const bare = await bareFanout(ctx, scratch, db.url, fake.baseUrl, targets.length, o.streams, replays);
      bare.latencies.forEach((l, i) => (rounds[i]!.bare = l));
      const summary: FanoutRun = {
        run,
        crossInstance,
        streams: o.streams,
        streamsPerInstance: targets.map(() => perInstance),
        openSeconds,
        rssPerStreamKiB,
        heapPerStreamKiB,
        bareRssPerStreamKiB: bare.rssPerStreamKiB,
        idleQueriesPerSecond,
        rounds,
        load1: load1(),
      };
      runs.push(summary);
      const burst = rounds.filter((r) => r.pace === 'burst');
      log(`fanout run ${run}: burst p99 ${fmt(median(burst.map((r) => r.latency.p99)), 1)} ms, bare ${fmt(median(burst.map((r) => r.bare?.latency.p99 ?? Number.NaN)), 1)} ms`);
    } finally {
      for (const s of streams) s.close();
      for (const p of processes) await p.close().catch(() => {});
      await fake.close();
      await db.drop();
    }
  }
  return report(runs, ctx, profiles);
}

async function bareFanout(
  ctx: SuiteContext,
  scratch: string,
  databaseUrl: string,
  modelUrl: string,
  processes: number,
  streamCount: number,
  replays: { pace: Pace; events: { key: string; text: string; delayMs: number }[] }[],
): Promise<{ latencies: { latency: LatencySummary; delivered: number }[]; rssPerStreamKiB: number }> {
  const bares: ServerProcess[] = [];
  const streams: EventStream[] = [];
  try {
    for (let i = 0; i < processes; i++) {
      bares.push(await startServerProcess('baseline', { DATABASE_URL: databaseUrl, LLM_BASE_URL: modelUrl }, { logFile: join(scratch, `bare-${i}.log`) }));
    }
    const offsets = await Promise.all(bares.map((p) => p.clockOffset()));
    const before = await Promise.all(bares.map((p) => p.usage(true)));
    const per = Math.ceil(streamCount / processes);
    streams.push(...(await inBatches(Array.from({ length: streamCount }), 50, (_, i) => openEventStream(`${bares[Math.floor(i / per)]!.url}/fanout`, {}))));
    await sleep(300);
    const after = await Promise.all(bares.map((p) => p.usage(true)));
    const readers = streams.map(sseReader);
    const latencies: { latency: LatencySummary; delivered: number }[] = [];
    for (const replay of replays) {
      for (const r of readers) r.take();
      const lastKey = replay.events[replay.events.length - 1]?.key;
      const [lists, received] = await Promise.all([
        Promise.all(bares.map((p) => p.request({ type: 'broadcast', events: replay.events }, 'published'))),
        collect(readers, (events) => events.some((e) => e.key === lastKey), 10_000),
      ]);
      const published = new Map<string, number>();
      lists.forEach((l, i) => {
        for (const e of l.events) if (!published.has(e.key)) published.set(e.key, e.at - offsets[i]!);
      });
      const all: number[] = [];
      for (const events of received) {
        for (const r of events) {
          const at = published.get(r.key);
          if (at !== undefined) all.push(r.at - at);
        }
      }
      latencies.push({ latency: summarize(all), delivered: all.length });
    }
    ctx.log(`bare fan-out: ${streams.length} streams, ${replays.length} replays`);
    return { latencies, rssPerStreamKiB: median(after.map((u, i) => (u.rss - before[i]!.rss) / 1024 / per)) };
  } finally {
    for (const s of streams) s.close();
    for (const p of bares) await p.close().catch(() => {});
  }
}

/** The events one subscriber received, as the bytes to replay, each delayed as the app published it. */
function schedule(received: Received[], published: Published[]): { key: string; text: string; delayMs: number }[] {
  const at = new Map(published.filter((p) => !p.key.startsWith('last:')).map((p) => [p.key, p.at]));
  const events = received.filter((r) => at.has(r.key));
  return events.map((e, i) => ({ key: e.key, text: e.text, delayMs: i === 0 ? 0 : Math.max(0, at.get(e.key)! - at.get(events[i - 1]!.key)!) }));
}

/** Reads every stream until `done` holds for what it received in this round (or the time is up). */
async function collect(readers: ReturnType<typeof sseReader>[], done: (events: Received[]) => boolean, timeoutMs: number): Promise<Received[][]> {
  const received: Received[][] = readers.map(() => []);
  const deadline = Date.now() + timeoutMs;
  const finished = new Set<number>();
  while (finished.size < readers.length && Date.now() < deadline) {
    await sleep(50);
    readers.forEach((r, i) => {
      if (finished.has(i)) return;
      received[i]!.push(...r.take());
      if (done(received[i]!)) finished.add(i);
    });
  }
  return received;
}

/** `lists[i]`: what instance i published (on our clock); instance 0 generated the turn. */
function deliveryLatencies(received: Received[][], lists: Published[][], instanceOf: (stream: number) => number): Omit<Round, 'pace'> {
  const origin = new Map<string, number>();
  for (const e of lists[0] ?? []) if (!e.key.startsWith('last:') && !origin.has(e.key)) origin.set(e.key, e.at);
  // Owed to every stream: the user message, each delta and the final answer. An instance that learns of a change
  // late may skip an intermediate state (queued, streaming): the events route sends a message's newest state.
  const required = new Set([...origin.keys()].filter((k) => k.startsWith('delta:') || k.endsWith(':complete')));
  const all: number[] = [];
  const deltas: number[] = [];
  const byInstance: number[][] = lists.map(() => []);
  const missing = lists.map(() => 0);
  let delivered = 0;
  let afterFinal = 0;
  for (const [stream, events] of received.entries()) {
    const firstArrival = new Map<string, number>();
    const spans: NonNullable<Received['delta']>[] = [];
    const spanArrivals: number[] = [];
    let final = false;
    for (const r of events) {
      if (final && r.delta) afterFinal++;
      if (/"role":"assistant"[^\n]*"status":"complete"/.test(r.text)) final = true;
      if (r.delta) {
        spans.push(r.delta);
        spanArrivals.push(r.at);
      } else if (!firstArrival.has(r.key)) firstArrival.set(r.key, r.at);
    }
    for (const [key, publishedAt] of origin) {
      let arrival: number | undefined;
      if (key.startsWith('delta:')) {
        // A published delta arrived when a received delta carries its first character (merged ones carry several).
        const [, id, offset] = key.split(':');
        const i = spans.findIndex((d) => d.id === id && d.start <= Number(offset) && Number(offset) < d.end);
        arrival = i >= 0 ? spanArrivals[i] : undefined;
      } else arrival = firstArrival.get(key);
      if (arrival === undefined) {
        if (required.has(key)) missing[instanceOf(stream)]! += 1;
        continue;
      }
      all.push(arrival - publishedAt);
      byInstance[instanceOf(stream)]?.push(arrival - publishedAt);
      if (key.startsWith('delta:')) deltas.push(arrival - publishedAt);
      if (required.has(key)) delivered++;
    }
  }
  const loops: number[] = [];
  for (const list of lists) {
    const first = new Map(list.filter((e) => !e.key.startsWith('last:')).map((e) => [e.key, e.at]));
    for (const e of list) {
      const start = e.key.startsWith('last:') ? first.get(e.key.slice(5)) : undefined;
      if (start !== undefined) loops.push(e.at - start);
    }
  }
  const hops = (lists[1] ?? []).flatMap((e) => {
    const at = e.key.startsWith('last:') ? undefined : origin.get(e.key);
    return at === undefined ? [] : [e.at - at];
  });
  return {
    latency: summarize(all),
    deltaLatency: summarize(deltas),
    byInstance: byInstance.map(summarize),
    serverLoop: summarize(loops),
    crossHop: lists.length > 1 ? summarize(hops) : undefined,
    expected: received.length * required.size,
    delivered,
    missingByInstance: missing,
    afterFinal,
  };
}

function report(runs: FanoutRun[], ctx: SuiteContext, profiles: ProfileSummary[]): SuiteReport {
  const rows: Cell[][] = [];
  for (const pace of ['burst', 'paced'] as const) {
    const rounds = runs.flatMap((r) => r.rounds.filter((x) => x.pace === pace));
    const m = (pick: (r: Round) => number | undefined) => median(rounds.map((r) => pick(r) ?? Number.NaN));
    rows.push([
      pace === 'burst' ? 'burst: 20 chunks at once' : `paced: a chunk every ${ctx.options.fanout.pacedChunkMs} ms`,
      rounds.length,
      fmt(m((r) => r.latency.p50), 1),
      fmt(m((r) => r.latency.p99), 1),
      fmt(m((r) => r.latency.max), 1),
      fmt(m((r) => r.byInstance[0]?.p99), 1),
      fmt(m((r) => r.byInstance[1]?.p99), 1),
      fmt(m((r) => r.serverLoop.p50), 1),
      fmt(m((r) => r.crossHop?.p50), 1),
      `${rounds.reduce((s, r) => s + r.delivered, 0).toLocaleString('en-US')} of ${rounds.reduce((s, r) => s + r.expected, 0).toLocaleString('en-US')}`,
      rounds.reduce((s, r) => s + (r.missingByInstance[0] ?? 0), 0),
      rounds.reduce((s, r) => s + (r.missingByInstance[1] ?? 0), 0),
      rounds.reduce((s, r) => s + r.afterFinal, 0),
      fmt(m((r) => r.bare?.latency.p50), 1),
      fmt(m((r) => r.bare?.latency.p99), 1),
      fmtRatio(m((r) => (r.bare ? r.latency.p99 / r.bare.latency.p99 : undefined))),
    ]);
  }
  const cross = runs.every((r) => r.crossInstance);
  const streams = runs[0]?.streams ?? 0;
  const where = cross ? `across 2 instances (${runs[0]?.streamsPerInstance.join(' + ')})` : "on ONE instance: instance 2 did not receive instance 1's events";
  const memRows: Cell[][] = runs.map((r) => [
    r.run,
    r.streams,
    r.crossInstance ? 'yes' : 'no',
    fmt(r.openSeconds, 1),
    fmt(r.rssPerStreamKiB, 1),
    fmt(r.heapPerStreamKiB, 1),
    fmt(r.bareRssPerStreamKiB, 1),
    fmt(r.idleQueriesPerSecond, 0),
  ]);
  const burst = runs.flatMap((r) => r.rounds.filter((x) => x.pace === 'burst'));
  const p99 = median(burst.map((r) => r.latency.p99));
  const bareP99 = median(burst.map((r) => r.bare?.latency.p99 ?? Number.NaN));
  const rss = median(runs.map((r) => r.rssPerStreamKiB));
  const delivered = runs.flatMap((r) => r.rounds).every((r) => r.delivered === r.expected);
  const targets: TargetResult[] = [
    {
      id: 'fanout-latency',
      target: 'fan-out p99 < 250 ms (1,000 streams, 2 instances)',
      measured:
        `${fmt(p99, 1)} ms p99 (burst: 20 chunks at once), ${streams} streams ${where}; bare node:http with the same bytes ${fmt(bareP99, 1)} ms` +
        `${delivered ? '' : '; some events were not delivered'}`,
      met: p99 < 250 && cross && delivered,
      note: cross ? undefined : 'the 2-instance case could not be measured: no cross-instance delivery in this build',
    },
    {
      id: 'fanout-memory',
      target: 'resident memory < 50 KB per open stream',
      measured: `${fmt(rss * 1.024, 1)} KB (${fmt(rss, 1)} KiB) RSS per stream (bare node:http ${fmt(median(runs.map((r) => r.bareRssPerStreamKiB)), 1)} KiB)`,
      met: rss * 1024 < 50_000,
    },
  ];
  const profileTables = profiles.slice(0, 1).flatMap((p) => [
    {
      title: `CPU profile of instance 1 during the fan-out rounds: ${fmt(p.busyMs, 0)} ms busy, self time by who caused it`,
      body: renderTable(['charged to (nearest non-Node caller)', 'ms', 'share'], p.byOwner.slice(0, 14).map((x) => [x.owner, fmt(x.ms, 0), `${fmt(x.share * 100, 1)}%`])),
    },
    {
      title: 'CPU profile of instance 1 during the fan-out rounds: top functions by self time',
      body: renderTable(['function', 'where', 'share'], p.topFunctions.map((f) => [f.fn, f.where, `${fmt(f.share * 100, 1)}%`])),
    },
  ]);
  return {
    suite: 'fanout',
    tables: [
      {
        title:
          `Live fan-out: one turn to ${streams} open events streams ${where}; ms from publication on the generating instance's bus ` +
          `to arrival, per (stream, event), medians over rounds; bare = node:http writing the same bytes on the same schedule`,
        body: renderTable(
          ['model pace', 'rounds', 'p50 ms', 'p99 ms', 'max ms', 'p99 instance 1', 'p99 instance 2', 'server loop p50 ms', 'NOTIFY hop p50 ms', 'events delivered', 'missing inst. 1', 'missing inst. 2', 'deltas after final', 'bare p50 ms', 'bare p99 ms', 'p99 vs bare'],
          rows,
        ),
      },
      {
        title: 'Live fan-out: cost of the open streams (RSS and heap deltas after full GCs, per stream)',
        body: renderTable(['run', 'streams', 'cross-instance', 'open all s', 'RSS KiB/stream', 'heap KiB/stream', 'bare RSS KiB/stream', 'idle DB statements/s'], memRows),
      },
      ...profileTables,
    ],
    targets,
    data: { runs, profiles },
  };
}
