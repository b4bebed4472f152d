import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { startBenchServer, type BenchServer } from './lib/database.js';
import { parseOptions, type SuiteName } from './lib/options.js';
import { load1, machineInfo, writeResult } from './lib/results.js';
import type { SuiteContext, SuiteReport, TargetResult } from './lib/suite.js';
import { printSection, renderTable } from './lib/table.js';
import { citationsSuite } from './suites/citations.js';
import { explainSuite } from './suites/explain.js';
import { fanoutSuite } from './suites/fanout.js';
import { growthSuite } from './suites/growth.js';
import { httpTurnsSuite } from './suites/http-turns.js';
import { storeAppendsSuite } from './suites/store-appends.js';
import { streamingSuite } from './suites/streaming.js';

/**
 * `npm run bench`: the suites of SUITE_RUNNERS against one PostgreSQL (embedded in a temp folder unless BENCH_DATABASE_URL),
 * a fresh database per suite run. Prints every table, writes each suite's JSON to bench/results/.
 */
const SUITE_RUNNERS: Record<SuiteName, (ctx: SuiteContext) => Promise<SuiteReport>> = {
  store: storeAppendsSuite,
  growth: growthSuite,
  http: httpTurnsSuite,
  fanout: fanoutSuite,
  explain: explainSuite,
  citations: citationsSuite,
  streaming: streamingSuite,
};

// The whole run must end: a hung suite fails it instead of holding the machine. The streaming suite's ramp takes
// about 20 minutes at its defaults, longer with longer answers: it gets time of its own.
const RUN_DEADLINE_MS = 30 * 60_000;
const STREAMING_DEADLINE_MS = 60 * 60_000;

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2), process.env);
  if (!options) return 0;
  const started = performance.now();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const log = (line: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  const deadline = setTimeout(
    () => {
      log('the run exceeded its deadline; exiting');
      process.exit(3);
    },
    RUN_DEADLINE_MS + (options.suites.includes('streaming') ? STREAMING_DEADLINE_MS : 0),
  );
  deadline.unref();

  let server: BenchServer | undefined;
  const reports: SuiteReport[] = [];
  try {
    server = await startBenchServer(log);
    const machine = { ...machineInfo(server.version, server.settings, server.embedded), code: codeState() };
    process.stdout.write(
      `report-chat benchmarks${options.quick ? ' (quick smoke run)' : ''}: ${options.runs} run(s) per suite\n` +
        `machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ` +
        `PostgreSQL ${machine.postgres} (${machine.embeddedPostgres ? 'embedded' : 'BENCH_DATABASE_URL'}), load ${load1()}\n` +
        `code: ${machine.code.commit}${machine.code.changedInSrc.length ? ` + ${machine.code.changedInSrc.length} changed path(s) in src/ (listed in the JSON)` : ''}\n`,
    );
    for (const name of options.suites) {
      log(`suite ${name}: starting`);
      const t0 = performance.now();
      const report = await SUITE_RUNNERS[name]({ server, options, log });
      const seconds = (performance.now() - t0) / 1000;
      reports.push(report);
      for (const table of report.tables) printSection(table.title, table.body);
      const path = writeResult(name, stamp, { suite: name, stamp, quick: options.quick, runs: options.runs, seconds, machine, targets: report.targets, data: report.data });
      log(`suite ${name}: ${seconds.toFixed(0)} s, results in ${path}`);
    }
    const targets = reports.flatMap((r) => r.targets);
    if (targets.length) printSection('Targets', targetTable(targets));
    const seconds = (performance.now() - started) / 1000;
    writeResult('summary', stamp, { stamp, quick: options.quick, runs: options.runs, seconds, machine, targets });
    process.stdout.write(`\nbench finished in ${seconds.toFixed(0)} s\n`);
    return 0;
  } finally {
    clearTimeout(deadline);
    await server?.stop().catch((err: unknown) => log(`could not stop PostgreSQL: ${String(err)}`));
  }
}

/** The commit measured and the files of src/ that differed from it: other work may be in progress in the tree. */
function codeState(): { commit: string; changedInSrc: string[] } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' });
    return { commit, changedInSrc: status.split('\n').filter(Boolean).map((l) => l.trim()) };
  } catch {
    return { commit: 'unknown (not a git checkout)', changedInSrc: [] };
  }
}

function targetTable(targets: TargetResult[]): string {
  return renderTable(
    ['target', 'measured', 'met'],
    targets.map((t) => [t.target, t.measured + (t.note ? ` — ${t.note}` : ''), t.met ? 'met' : 'NOT met']),
  );
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
