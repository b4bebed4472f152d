/**
 * Command line of `npm run bench`. Every size and duration of the run is decided here, once, so that a quick
 * smoke run and the full run differ only in this table.
 */
export const SUITES = ['store', 'growth', 'http', 'fanout', 'explain', 'citations'] as const;
export type SuiteName = (typeof SUITES)[number];

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
}

const HELP = `Usage: npm run bench -- [options]

  --quick            a short smoke run (also BENCH_QUICK=1)
  --runs N           repetitions of each suite (default 3, quick 1); tables show medians
  --suite a,b        only these suites: ${SUITES.join(', ')}
  --profile          CPU-profile the server processes (V8's sampler, as node --cpu-prof) during the measured
                     cells of the HTTP and fan-out suites; summaries printed, .cpuprofile.json in bench/results
  --help

Environment: BENCH_DATABASE_URL=postgres://... uses that server (a superuser URL) instead of an embedded one.
`;

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions | undefined {
  let quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  let runs: number | undefined;
  let suites: SuiteName[] = [...SUITES];
  let profile = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
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
  };
}

function positive(raw: string | undefined, name: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 20) throw new Error(`${name} expects a whole number from 1 to 20 (got ${raw})`);
  return n;
}
