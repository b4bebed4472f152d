import { buildModelInput, createAnswerModel, streamAnswer, type AnswerEvent, type HistoryMessage } from '../../src/llm/index.js';
import { renderPrompt } from '../../src/llm/prompt-input.js';
import { startFakeAnthropic } from '../../test/fakes/fake-anthropic-server.js';
import type { FakeProviderServer } from '../../test/fakes/fake-behavior.js';
import { longReport } from '../../test/fakes/long-report.js';
import type { SuiteContext, SuiteReport, TargetResult } from '../lib/suite.js';
import { median, percentile } from '../lib/stats.js';
import { fmt, fmtRatio, renderTable, type Cell } from '../lib/table.js';

/** A model with a 32k-token window: where a 300 KB report (about 75k tokens) no longer fits whole. */
const SELECTION_BUDGET = 32_000;
/** Big enough that nothing is ever left out: what a context builder without selection would send. */
const NO_SELECTION_BUDGET = 10_000_000;
const TTFT_TARGET_MS = 20;
const ALICE = { id: '0a11ce00-0000-4000-8000-000000000001', name: 'Alice' };

interface TurnFigures {
  turn: number;
  /** Estimated tokens of the request body as the fake received it (JSON bytes / 4). */
  sentTokens: number;
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  passages: number;
  totalPassages: number;
  historyTurns: number;
}

/**
 * What citations and selection cost. (1) A 60-turn conversation about a 300 KB report, played against the fake Anthropic server
 * through the real provider: tokens sent per turn with selection (a 32k budget) and without (everything every
 * turn), and the cached share of input tokens, both by the request sizes the fake sees (its usage counts a prefix
 * it saw before as read from the cache). (2) The time the server adds before the request leaves with selection on
 * a 2 MiB report: building the context and the provider's prompt, per question, after the first turn.
 */
export async function citationsSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const { turns, ttftQuestions } = ctx.options.citations;
  const report = longReport(300 * 1024, 3);
  const fake = await startFakeAnthropic();
  try {
    const withSelection = await conversation(fake, report, turns, SELECTION_BUDGET, ctx.log);
    const without = await conversation(fake, report, turns, NO_SELECTION_BUDGET, ctx.log);
    const timing = contextTiming(ttftQuestions, ctx.log);
    return summarise(report, withSelection, without, timing);
  } finally {
    await fake.close();
  }
}

async function conversation(fake: FakeProviderServer, report: string, turns: number, maxTokens: number, log: (line: string) => void): Promise<TurnFigures[]> {
  const model = createAnswerModel({ provider: 'anthropic', baseUrl: fake.baseUrl, apiKey: 'bench', localChunkDelayMs: 0 });
  const chapters = [...report.matchAll(/^## (Chapter \d+): (.*)$/gm)].map((m) => `${m[1]} (${m[2]})`);
  // An answer of about 600 characters, as a model's would be, so the history grows as it really does.
  const answerText = 'The report says so in that chapter, with figures for each section. '.repeat(9);
  fake.setBehavior({ chunks: [answerText] });
  const history: HistoryMessage[] = [];
  const figures: TurnFigures[] = [];
  for (let turn = 1; turn <= turns; turn++) {
    const question = `What does ${chapters[(turn * 7) % chapters.length]} say about its measurements?`;
    const input = buildModelInput({ reportTitle: 'Operations review', reportContent: report, history, question, questionAuthor: ALICE, maxTokens });
    let finish: Extract<AnswerEvent, { type: 'finish' }> | undefined;
    let text = '';
    for await (const event of streamAnswer({ model, input, signal: AbortSignal.timeout(30_000) })) {
      if (event.type === 'delta') text += event.text;
      else if (event.type === 'finish') finish = event;
      else if (event.type === 'error') throw new Error(`turn ${turn}: ${event.message}`);
    }
    const request = fake.requests.at(-1)!;
    figures.push({
      turn,
      sentTokens: Math.ceil(JSON.stringify(request.body).length / 4),
      inputTokens: finish?.inputTokens ?? 0,
      cacheReadTokens: finish?.cacheReadTokens ?? 0,
      cacheWriteTokens: finish?.cacheWriteTokens ?? 0,
      passages: input.context.passages,
      totalPassages: input.context.totalPassages,
      historyTurns: input.context.historyTurns,
    });
    history.push({ role: 'user', content: question, author: ALICE }, { role: 'assistant', content: text });
  }
  fake.requests.length = 0;
  log(`citations: ${turns} turns at a budget of ${maxTokens.toLocaleString('en-US')} tokens`);
  return figures;
}

interface Timing {
  coldMs: number;
  document: number[];
  labels: number[];
  sentChars: number[];
}

/**
 * What the server does before the request leaves, on a 2 MiB report that never fits: build the context (ranking
 * and selection) and the provider's prompt. The first call also splits and indexes the report (`coldMs`); the
 * following ones, for other questions, find it in the cache, as every later turn about the same report does.
 */
function contextTiming(questions: number, log: (line: string) => void): Timing {
  const report = longReport(2 * 1024 * 1024, 5);
  const headings = [...report.matchAll(/^### (.*)$/gm)].map((m) => m[1]!);
  const ask = (i: number) =>
    buildModelInput({
      reportTitle: 'Operations review',
      reportContent: report,
      history: [],
      question: `What does the review say about ${headings[(i * 131) % headings.length]}?`,
      questionAuthor: ALICE,
      maxTokens: 100_000,
    });
  const t0 = performance.now();
  ask(0);
  const coldMs = performance.now() - t0;
  const timing: Timing = { coldMs, document: [], labels: [], sentChars: [] };
  for (let i = 1; i <= questions; i++) {
    const start = performance.now();
    const input = ask(i);
    const built = performance.now();
    renderPrompt(input, 'document');
    timing.document.push(performance.now() - start);
    const before = performance.now();
    renderPrompt(input, 'labels');
    timing.labels.push(built - start + (performance.now() - before));
    timing.sentChars.push(input.context.sentChars);
  }
  log(`citations: context timing on 2 MiB, ${questions} questions`);
  return timing;
}

function summarise(report: string, withSel: TurnFigures[], without: TurnFigures[], timing: Timing): SuiteReport {
  const sum = (rows: TurnFigures[], key: keyof TurnFigures) => rows.reduce((n, r) => n + r[key], 0);
  const cachedShare = (rows: TurnFigures[]) => sum(rows, 'cacheReadTokens') / Math.max(1, sum(rows, 'inputTokens'));
  const shown = [1, 2, 10, 20, 30, 40, 50, 60].filter((t) => t <= withSel.length);
  const perTurn: Cell[][] = shown.map((t) => {
    const a = without[t - 1]!;
    const b = withSel[t - 1]!;
    return [
      t,
      a.sentTokens,
      b.sentTokens,
      fmtRatio(b.sentTokens / a.sentTokens),
      `${fmt((100 * a.cacheReadTokens) / Math.max(1, a.inputTokens), 0)}%`,
      `${fmt((100 * b.cacheReadTokens) / Math.max(1, b.inputTokens), 0)}%`,
      `${b.passages} of ${b.totalPassages}`,
      `${a.historyTurns} / ${b.historyTurns}`,
    ];
  });
  const totals: Cell[][] = [
    [
      `all ${withSel.length}`,
      sum(without, 'sentTokens'),
      sum(withSel, 'sentTokens'),
      fmtRatio(sum(withSel, 'sentTokens') / sum(without, 'sentTokens')),
      `${fmt(100 * cachedShare(without), 0)}%`,
      `${fmt(100 * cachedShare(withSel), 0)}%`,
      '',
      '',
    ],
  ];
  const p50 = percentile(timing.document, 50);
  const labelsP50 = percentile(timing.labels, 50);
  const targets: TargetResult[] = [
    {
      id: 'selection-ttft',
      target: `server-added time to first token with selection on a 2 MiB report < ${TTFT_TARGET_MS} ms at p50`,
      measured: `${fmt(p50, 1)} ms (Anthropic and local: cited document); ${fmt(labelsP50, 1)} ms (OpenAI-compatible: labelled passages)`,
      met: p50 < TTFT_TARGET_MS && labelsP50 < TTFT_TARGET_MS,
      note: `the first turn about a report also splits and indexes it: ${fmt(timing.coldMs, 0)} ms once, then cached`,
    },
  ];
  return {
    suite: 'citations',
    tables: [
      {
        title: `Tokens sent per turn, a ${withSel.length}-turn conversation about a ${fmt(report.length / 1024, 0)} KiB report (request bytes / 4 as the fake Anthropic server received them; cached share = cache-read tokens / input tokens by its usage)`,
        body: renderTable(
          ['turn', 'without selection', `with selection (${SELECTION_BUDGET / 1000}k budget)`, 'ratio', 'cached, without', 'cached, with', 'passages sent, with', 'history turns, without / with'],
          [...perTurn, ...totals],
        ),
      },
      {
        title: 'Server-added time before the model request, with selection on a 2 MiB report (build the context and the prompt; ms)',
        body: renderTable(
          ['provider prompt', 'p50', 'p99', 'max', 'report chars sent (median)', 'first turn (split + index, once per report)'],
          [
            ['cited document (Anthropic, local)', p50, percentile(timing.document, 99), percentile(timing.document, 100), median(timing.sentChars), timing.coldMs],
            ['labelled passages (OpenAI-compatible)', labelsP50, percentile(timing.labels, 99), percentile(timing.labels, 100), median(timing.sentChars), timing.coldMs],
          ],
        ),
      },
    ],
    targets,
    data: { withSelection: withSel, withoutSelection: without, timing },
  };
}
