/**
 * Command line of `npm run bench`. Every size and duration of the run is decided here, once, so that a quick
 * smoke run and the full run differ only in this table.
 */
export const SUITES = ['store', 'growth', 'http', 'fanout', 'explain', 'citations', 'streaming'] as const;
export type SuiteName = (typeof SUITES)[number];
/** What a run without --suite runs: the streaming capacity suite takes ~20 minutes of its own, so it is asked for. */
const DEFAULT_SUITES: readonly SuiteName[] = SUITES.filter((s) => s !== 'streaming');

export const STREAM_DESIGNS = ['relay', 'relay-sdk', 'app', 'app-2', 'end-only', 'every-chunk'] as const;
export type StreamDesign = (typeof STREAM_DESIGNS)[number];

export interface BenchOptions {
  quick: boolean;
  /** Repetitions of each measured suite; the tables show medians over them. */
  runs: number;
  suites: SuiteName[];
  /** Profile the server processes during the HTTP and fan-out suites' measured cells (V8's CPU sampler). */
  profile: boolean;
  store: { levels: number[]; spread: number; cellMs: number; warmupMs: number };
  growth: { sizes: number[]; appends: number; jsonbAppendsAtMax: number; cellMs: number };
  http: { levels: number[]; reports: number; cellMs: number; warmupMs: number; chunks: number };
  fanout: { streams: number; users: number; rounds: number; chunks: number; pacedChunkMs: number };
  citations: { turns: number; ttftQuestions: number };
  streaming: StreamingOptions;
}

export interface StreamingOptions {
  designs: StreamDesign[];
  /** Length of an answer (s) and its pace (chunks a second) in the capacity ramp. */
  seconds: number;
  pace: number;
  /** The ramp: N answers at once from startN, times `factor` each step, up to maxN; a design stops at its first failing step. */
  startN: number;
  factor: number;
  maxN: number;
  /** The design that saves the whole text every chunk starts its ramp (and its WAL runs) at this N. */
  smallN: number;
  /** Answers start spread over this long, not all in one instant. */
  staggerMs: number;
  /** A step fails when the added delivery delay passes this at p99. */
  p99LimitMs: number;
}

const HELP = `Usage: npm run bench -- [options]

  --quick            a short smoke run (also BENCH_QUICK=1)
  --runs N           repetitions of each suite (default 3, quick 1); tables show medians
  --suite a,b        only these suites: ${SUITES.join(', ')}
  --profile          CPU-profile the server processes (V8's sampler, as node --cpu-prof) during the measured
                     cells of the HTTP and fan-out suites; summaries printed, .cpuprofile.json in bench/results
  --help

The streaming suite (not run unless named: --suite streaming; one run, whatever --runs says) also reads, as
options or environment:
  --stream-seconds S   BENCH_STREAM_SECONDS   length of an answer in the ramp (default 60, quick 3)
  --stream-pace P      BENCH_STREAM_PACE      chunks a second (default 40)
  --stream-start N     BENCH_STREAM_START     first N of the ramp (default 200, quick 20)
  --stream-max N       BENCH_STREAM_MAX       last N of the ramp (default 6400, quick 80)
  --stream-designs a,b BENCH_STREAM_DESIGNS   some of ${STREAM_DESIGNS.join(', ')}

Environment: BENCH_DATABASE_URL=postgres://... uses that server (a superuser URL) instead of an embedded one.
`;

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions | undefined {
  let quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  let runs: number | undefined;
  let suites: SuiteName[] = [...DEFAULT_SUITES];
  let profile = false;
  const stream: Record<string, string | undefined> = {
    seconds: env.BENCH_STREAM_SECONDS,
    pace: env.BENCH_STREAM_PACE,
    start: env.BENCH_STREAM_START,
    max: env.BENCH_STREAM_MAX,
    designs: env.BENCH_STREAM_DESIGNS,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const streamOption = /^--stream-(seconds|pace|start|max|designs)(?:=(.*))?$/.exec(arg);
    if (streamOption) stream[streamOption[1]!] = streamOption[2] ?? argv[++i];
    else if (arg === '--quick') quick = true;
    else if (arg === '--profile') profile = true;
    else if (arg === '--runs') runs = positive(argv[++i], '--runs');
    else if (arg.startsWith('--runs=')) runs = positive(arg.slice(7), '--runs');
    else if (arg === '--suite' || arg.startsWith('--suite=')) {
      const list = arg === '--suite' ? argv[++i] : arg.slice(8);
      suites = (list ?? '').split(',').map((s) => s.trim()).filter(Boolean) as SuiteName[];
      const unknown = suites.filter((s) => !SUITES.includes(s));
      if (unknown.length || suites.length === 0) throw new Error(`unknown suite ${unknown.join(', ') || '(none)'}; known: ${SUITES.join(', ')}`);
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(HELP);
      return undefined;
    } else throw new Error(`unknown option ${arg}\n\n${HELP}`);
  }
  return {
    quick,
    runs: runs ?? (quick ? 1 : 3),
    suites,
    profile,
    store: quick
      ? { levels: [1, 8, 32], spread: 1000, cellMs: 400, warmupMs: 100 }
      : { levels: [1, 8, 32], spread: 1000, cellMs: 1_500, warmupMs: 300 },
    growth: quick
      ? { sizes: [10, 1_000, 10_000], appends: 60, jsonbAppendsAtMax: 20, cellMs: 2_000 }
      : { sizes: [10, 1_000, 10_000], appends: 300, jsonbAppendsAtMax: 100, cellMs: 6_000 },
    http: quick
      ? { levels: [1, 16, 64], reports: 128, cellMs: 1_500, warmupMs: 300, chunks: 20 }
      : { levels: [1, 16, 64], reports: 256, cellMs: 4_000, warmupMs: 800, chunks: 20 },
    fanout: quick
      ? { streams: 1_000, users: 100, rounds: 2, chunks: 20, pacedChunkMs: 20 }
      : { streams: 1_000, users: 100, rounds: 5, chunks: 20, pacedChunkMs: 20 },
    citations: quick ? { turns: 60, ttftQuestions: 20 } : { turns: 60, ttftQuestions: 100 },
    streaming: streamingOptions(quick, stream),
  };
}

function streamingOptions(quick: boolean, given: Record<string, string | undefined>): StreamingOptions {
  const number = (name: string, fallback: number, max: number) => {
    const raw = given[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0 || n > max) throw new Error(`--stream-${name} expects a number above 0 and at most ${max} (got ${raw})`);
    return n;
  };
  const designs = (given.designs ?? '').split(',').map((d) => d.trim()).filter(Boolean) as StreamDesign[];
  const unknown = designs.filter((d) => !STREAM_DESIGNS.includes(d));
  if (unknown.length) throw new Error(`unknown streaming design ${unknown.join(', ')}; known: ${STREAM_DESIGNS.join(', ')}`);
  const startN = Math.round(number('start', quick ? 20 : 200, 100_000));
  return {
    designs: designs.length ? designs : [...STREAM_DESIGNS],
    seconds: number('seconds', quick ? 3 : 60, 3_600),
    pace: number('pace', 40, 1_000),
    startN,
    factor: 2,
    maxN: Math.max(startN, Math.round(number('max', quick ? 80 : 6_400, 100_000))),
    smallN: Math.max(1, Math.round(startN / 8)),
    staggerMs: quick ? 1_000 : 3_000,
    p99LimitMs: 100,
  };
}

function positive(raw: string | undefined, name: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 20) throw new Error(`${name} expects a whole number from 1 to 20 (got ${raw})`);
  return n;
}
