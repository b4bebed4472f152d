import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { STREAM_DESIGNS, type StreamDesign, type StreamingOptions } from '../lib/options.js';
import { RESULTS_DIR } from '../lib/results.js';
import { STAMP_CHARS } from '../lib/stamps.js';
import type { SuiteReport, TargetResult } from '../lib/suite.js';
import { COLORS, lineChart } from '../lib/svg-chart.js';
import { fmt, fmtRatio, renderTable, type Cell } from '../lib/table.js';

/** One step of the streaming suite: N answers of one design streaming at once, and what they cost. */
export interface StepResult {
  design: StreamDesign;
  /** `ramp`: a step of the capacity ramp; `wal`: a shorter answer for the WAL-against-length chart. */
  kind: 'ramp' | 'wal' | 'warm-up';
  n: number;
  seconds: number;
  chunks: number;
  /** No answer failed and the p99 delay stayed within the limit. */
  passed: boolean;
  failures: number;
  firstErrors: string[];
  /** From the fake model's write of a chunk to its arrival at the client, ms. */
  delays: { n: number; p50: number; p95: number; p99: number; max: number };
  /** Chunks sent around the forced garbage collections of the memory reading, not counted in the delays. */
  excluded: number;
  gcMs: number;
  /** Server processes' CPU over the step, as a share of one core, and per answer. */
  serverCpuPct: number;
  cpuMsPerAnswer: number;
  /** Mid-stream, after full GCs, over the same processes idle after their warm-up, per streaming answer. */
  rssKiBPerAnswer: number;
  heapKiBPerAnswer: number;
  textBytes: number;
  walPerAnswer: number;
  walPerAnswerByte: number;
  /** Per answer, by record type (pg_walinspect), for the steps of the WAL chart. */
  walKinds?: { kind: string; records: number; bytes: number; fpiBytes: number }[];
  /** In the steady middle half of the step: transactions committed in the database, and statements saving text. */
  commitsPerSecond: number;
  savesPerSecond: number | undefined;
  clientCpuPct: number;
  modelLatenessP99Ms: number;
  load1: number;
}

export const DESIGN_LABELS: Record<StreamDesign, string> = {
  relay: 'bare node:http relay, no database',
  'relay-sdk': 'relay, model through the AI SDK client',
  app: 'report-chat, 1 instance',
  'app-2': 'report-chat, 2 instances',
  'end-only': 'save only at the end',
  'every-chunk': 'save the whole text every chunk',
};

const colorOf = (d: StreamDesign) => COLORS[STREAM_DESIGNS.indexOf(d)];

const DOCS_DIR = fileURLToPath(new URL('../../docs/bench/', import.meta.url));

/** The largest N at which a design passed, before its first failing step. */
export function maxPassing(steps: StepResult[], design: StreamDesign): number | undefined {
  let max: number | undefined;
  for (const s of steps.filter((x) => x.design === design && x.kind === 'ramp').sort((x, y) => x.n - y.n)) {
    if (!s.passed) break;
    max = s.n;
  }
  return max;
}

export function streamingReport(steps: StepResult[], o: StreamingOptions, quick: boolean): SuiteReport {
  const ramp = steps.filter((s) => s.kind === 'ramp');
  const designs = [...new Set(steps.map((s) => s.design))];
  const stepRows: Cell[][] = ramp.map((s) => [
    DESIGN_LABELS[s.design],
    s.n,
    s.passed ? 'pass' : s.failures ? `${s.failures} failed` : 'p99 over',
    fmt(s.delays.p50, 1),
    fmt(s.delays.p95, 1),
    fmt(s.delays.p99, 1),
    fmt(s.serverCpuPct, 0),
    fmt(s.cpuMsPerAnswer, 0),
    fmt(s.rssKiBPerAnswer, 1),
    fmt(s.walPerAnswerByte, 2),
    fmt(s.commitsPerSecond, 0),
    s.savesPerSecond === undefined ? '–' : fmt(s.savesPerSecond, 0),
    fmt(s.clientCpuPct, 0),
    fmt(s.modelLatenessP99Ms, 1),
    fmt(s.load1, 1),
  ]);
  const relayMax = maxPassing(steps, 'relay');
  const sdkMax = maxPassing(steps, 'relay-sdk');
  const maxRows: Cell[][] = designs.map((d) => {
    const max = maxPassing(steps, d);
    return [
      DESIGN_LABELS[d],
      max ?? `none (from ${Math.min(...ramp.filter((s) => s.design === d).map((s) => s.n))})`,
      relayMax && max ? fmtRatio(max / relayMax) : '–',
      sdkMax && max ? fmtRatio(max / sdkMax) : '–',
    ];
  });
  const noDatabase = (d: StreamDesign) => d === 'relay' || d === 'relay-sdk';
  const lengths = [...new Set(steps.filter((s) => s.kind !== 'warm-up' && !noDatabase(s.design)).map((s) => s.seconds))].sort((a, b) => a - b);
  // The WAL chart's points of a design: its shorter answers and the ramp's step at the same N.
  const walN = (d: StreamDesign) => steps.find((s) => s.design === d && s.kind === 'wal')?.n;
  const walOf = (d: StreamDesign, seconds: number) =>
    steps.find((s) => s.design === d && (s.kind === 'wal' || s.kind === 'ramp') && s.seconds === seconds && s.n === walN(d));
  const walDesigns = designs.filter((d) => !noDatabase(d) && d !== 'app-2');
  const walRows: Cell[][] = walDesigns.map((d) => [
    DESIGN_LABELS[d],
    walOf(d, lengths[0]!)?.n,
    ...lengths.map((sec) => {
      const s = walOf(d, sec);
      return s ? `${fmt(s.walPerAnswer, 0)} B (${fmt(s.walPerAnswerByte, 2)}/B)${s.passed ? '' : '*'}` : '–';
    }),
  ]);

  const targets = streamingTargets(steps, o);
  const subtitle = `${quick ? 'quick run, ' : ''}answers of ${o.seconds} s at ${o.pace} chunks/s; N doubling from ${o.startN}, then one step between; load ${fmt(Math.min(...steps.map((s) => s.load1)), 1)}–${fmt(Math.max(...steps.map((s) => s.load1)), 1)}`;
  const charts = writeCharts({ steps, designs, walDesigns, lengths, walOf, o, subtitle, quick });
  const tables = [
    {
      title: `Streaming capacity: N answers at once, each ${o.seconds} s at ${o.pace} chunks/s (delay: model write → client, ms; CPU % of one core; RSS KiB and CPU ms per answer; WAL bytes per answer byte; per second: DB commits and text-saving statements; client CPU %; model lateness p99 ms)`,
      body: renderTable(
        ['design', 'N', 'result', 'p50', 'p95', 'p99', 'server CPU %', 'CPU ms/answer', 'RSS KiB/answer', 'WAL/B', 'commits/s', 'saves/s', 'client CPU %', 'model late p99', 'load'],
        stepRows,
      ),
    },
    { title: `Streaming capacity: the largest N with p99 ≤ ${o.p99LimitMs} ms and no failed answer`, body: renderTable(['design', 'max N', 'vs relay', 'vs relay via AI SDK'], maxRows) },
    {
      title: `WAL per answer against answer length (N as shown; * = a step where answers failed or p99 passed the limit)`,
      body: renderTable(['design', 'N', ...lengths.map((l) => `${l} s (${l * o.pace * 6} B of text)`)], walRows),
    },
    {
      title: `WAL per answer by record type (pg_walinspect), ${o.seconds} s answers at each design's first N; the VACUUM after the answers included`,
      body: renderTable(
        ['design', 'N', 'record type', 'records/answer', 'bytes/answer', 'of which full-page images'],
        walDesigns.flatMap((d) => {
          const s = walOf(d, o.seconds);
          return (s?.walKinds ?? []).map((k) => [DESIGN_LABELS[d], s!.n, k.kind, fmt(k.records, 1), fmt(k.bytes, 0), fmt(k.fpiBytes, 0)]);
        }),
      ),
    },
    { title: 'Streaming charts', body: charts.map((c) => `- ${c}`).join('\n') },
  ];
  return { suite: 'streaming', tables, targets, data: { options: o, steps, charts } };
}

function streamingTargets(steps: StepResult[], o: StreamingOptions): TargetResult[] {
  const targets: TargetResult[] = [];
  const relayMax = maxPassing(steps, 'relay');
  const appMax = maxPassing(steps, 'app');
  const sdkMax = maxPassing(steps, 'relay-sdk');
  if (steps.some((s) => s.design === 'app') && steps.some((s) => s.design === 'relay')) {
    const ratio = appMax && relayMax ? appMax / relayMax : 0;
    const atScale = relayMax !== undefined && relayMax >= 3_000;
    targets.push({
      id: 'streaming-capacity',
      target: `the app's max N with p99 < ${o.p99LimitMs} ms ≥ 0.7x the bare relay's (and ≥ 2,000 where the relay reaches 3,000)`,
      measured:
        `${fmtRatio(ratio)} (${appMax ?? 'none'} vs ${relayMax ?? 'none'}; two instances: ${maxPassing(steps, 'app-2') ?? 'none'}` +
        `${sdkMax ? `; the relay through the AI SDK client: ${sdkMax}, the app at ${fmtRatio((appMax ?? 0) / sdkMax)} of it` : ''})`,
      met: ratio >= 0.7 && (!atScale || (appMax ?? 0) >= 2_000),
      note: `N doubles from step to step, then one step between the last pass and the first failure: each max is within a factor of √2 below the true one`,
    });
  }
  const appSteps = steps.filter((s) => s.design === 'app' && s.kind === 'ramp');
  const largest = appSteps.filter((s) => s.passed).sort((a, b) => b.n - a.n)[0] ?? appSteps.sort((a, b) => a.n - b.n)[0];
  if (largest) {
    const rssKB = (largest.rssKiBPerAnswer * 1024) / 1000;
    // Below a hundred answers the process's own swings (a young generation, freed pages kept or returned) are larger
    // than what the answers hold; RSS below its idle level says the same.
    const meaningful = largest.n >= 100 && rssKB > 0;
    targets.push({
      id: 'streaming-memory',
      target: 'memory < 64 KB per streaming answer (RSS, one instance)',
      measured:
        `${fmt(rssKB, 1)} KB at N = ${largest.n} (V8 heap and external ${fmt((largest.heapKiBPerAnswer * 1024) / 1000, 1)} KB)` +
        (meaningful ? '' : ' — not a per-answer figure: too few answers, or RSS fell below its idle level'),
      met: meaningful && rssKB < 64,
    });
    const full = appSteps.find((s) => s.seconds === o.seconds);
    if (full) {
      const limit = 3 * full.textBytes + 4_096;
      targets.push({
        id: 'streaming-wal',
        target: `WAL per answer ≤ 3 × text + 4 KB (${o.seconds} s answers: ${fmt(limit, 0)} B)`,
        measured: `${fmt(full.walPerAnswer, 0)} B for ${fmt(full.textBytes, 0)} B of text (${fmt(full.walPerAnswerByte, 2)} per byte) at N = ${full.n}`,
        met: full.walPerAnswer <= limit,
      });
    }
  }
  return targets;
}

function writeCharts(args: {
  steps: StepResult[];
  designs: StreamDesign[];
  walDesigns: StreamDesign[];
  lengths: number[];
  walOf: (d: StreamDesign, seconds: number) => StepResult | undefined;
  o: StreamingOptions;
  subtitle: string;
  quick: boolean;
}): string[] {
  const { steps, designs, walDesigns, lengths, walOf, o, subtitle, quick } = args;
  const delay = lineChart({
    title: 'Added delivery delay (p99) against answers streaming at once',
    subtitle,
    xLabel: 'answers streaming at once (N)',
    yLabel: 'p99 delay, model write → client (ms)',
    xLog: true,
    yLog: true,
    series: designs.map((d) => ({
      name: DESIGN_LABELS[d],
      color: colorOf(d),
      points: steps.filter((s) => s.design === d && s.kind === 'ramp').map((s) => ({ x: s.n, y: Math.max(0.1, s.delays.p99), failed: !s.passed })),
    })),
    guides: [{ y: o.p99LimitMs, label: `limit ${o.p99LimitMs} ms` }],
  });
  const walSeries = walDesigns.map((d) => ({
    name: DESIGN_LABELS[d],
    color: colorOf(d),
    points: lengths.flatMap((seconds) => {
      const s = walOf(d, seconds);
      return s ? [{ x: seconds, y: s.walPerAnswer, failed: !s.passed }] : [];
    }),
  }));
  const wal = lineChart({
    title: 'Database WAL per answer against answer length',
    subtitle: `${subtitle}; text ${o.pace * STAMP_CHARS} B a second`,
    xLabel: 'answer length (s)',
    yLabel: 'WAL per answer (bytes)',
    yLog: true,
    series: [
      ...walSeries,
      { name: 'target: 3 × text + 4 KB', dashed: true, color: '#555', points: [0, ...lengths].map((l) => ({ x: l, y: 3 * l * o.pace * STAMP_CHARS + 4_096 })) },
    ],
  });
  // A full run's charts (every design, the default sizes) are the ones BENCHMARKS.md shows; any other run's go with
  // the other results, so that a partial run never replaces them.
  const full = !quick && STREAM_DESIGNS.every((d) => o.designs.includes(d)) && o.seconds === 60 && o.pace === 40;
  const dir = full ? DOCS_DIR : RESULTS_DIR;
  const prefix = full ? 'streaming-' : `streaming-${quick ? 'quick' : 'partial'}-${new Date().toISOString().replace(/[:.]/g, '-')}-`;
  mkdirSync(dir, { recursive: true });
  const files = [`${dir}${prefix}delay.svg`, `${dir}${prefix}wal.svg`];
  writeFileSync(files[0]!, delay);
  writeFileSync(files[1]!, wal);
  return files;
}
