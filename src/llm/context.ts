import type { ModelMessage } from 'ai';
import { renderPrompt } from './prompt-input.js';
import { wholeReport } from './report-excerpt.js';
import { indexReport, selectPassages } from './report-selection.js';
import { estimateTokens } from './tokens.js';
import type { ContextInput, ContextRecord, HistoryMessage, ModelInput, SentReport } from './types.js';

/** The recent conversation keeps at least this many turns (question and answer), unless they alone are too big. */
const GUARANTEED_TURNS = 3;
/** ...and the report at least this share of the budget, so that an answer always has something to cite. */
const REPORT_FLOOR_SHARE = 0.25;

/**
 * Bounds what is sent to the model; it never changes what is stored (older history is simply not sent).
 * The question always goes. The whole report goes when it fits beside the last turns; otherwise a selection of
 * it (the table of contents and the passages most relevant to the question) fills what the last turns leave.
 * Older history then fills what is left, newest first.
 */
export function buildModelInput(input: ContextInput): ModelInput {
  const { reportContent: content, history, question, maxTokens } = input;
  const indexed = indexReport(content);
  const base = { title: input.reportTitle, content, outline: indexed.outline };
  const questionTokens = estimateTokens(question);
  const available = maxTokens - questionTokens - promptTokens({ ...base, excerpt: wholeReport('') });

  let report: SentReport = { ...base, excerpt: wholeReport(content) };
  const recent = recentTurnsTokens(history);
  // Rendering a report far too big only to measure it would cost more than the selection itself.
  const wholeTokens = estimateTokens(content) > available ? Infinity : promptTokens(report) - (maxTokens - questionTokens - available);
  if (wholeTokens + recent > available) {
    const reportFloor = Math.floor(available * REPORT_FLOOR_SHARE);
    const reserved = Math.min(recent, Math.max(0, available - reportFloor));
    const selection = selectPassages({
      content,
      report: indexed,
      question,
      earlierQuestions: history.filter((m) => m.role === 'user').map((m) => m.content),
      // The note that says it is a selection, and the tags around the contents, come out of its share.
      budgetTokens: available - reserved - (promptTokens({ ...base, excerpt: wholeReport(''), tableOfContents: '' }) - (maxTokens - questionTokens - available)),
    });
    report = { ...base, ...selection };
  }
  const historyBudget = maxTokens - promptTokens(report) - questionTokens;
  const { sent, dropped } = selectHistory(history, historyBudget);
  return { report, messages: toMessages(sent, question), droppedHistory: dropped, context: contextRecord(report, sent) };
}

/** The system prompt's size as the larger rendering (labelled passages, in the system prompt) makes it. */
function promptTokens(report: SentReport): number {
  const { prompt } = renderPrompt({ report, messages: [{ role: 'user', content: '' }], droppedHistory: 0, context: EMPTY_RECORD });
  return estimateTokens(prompt[0]!.content as string);
}

const EMPTY_RECORD: ContextRecord = { reportChars: 0, sentChars: 0, passages: 0, totalPassages: 0, historyTurns: 0 };

/** What the last GUARANTEED_TURNS turns of the conversation cost, from the question that opens the first of them. */
function recentTurnsTokens(history: HistoryMessage[]): number {
  let tokens = 0;
  let questions = 0;
  for (let i = history.length - 1; i >= 0 && questions < GUARANTEED_TURNS; i--) {
    tokens += estimateTokens(history[i]!.content);
    if (history[i]!.role === 'user') questions++;
  }
  return tokens;
}

function contextRecord(report: SentReport, history: HistoryMessage[]): ContextRecord {
  const { pieces } = report.excerpt;
  let sentPassages = 0;
  let piece = 0;
  for (const passage of report.outline.passages) {
    while (piece < pieces.length && pieces[piece]!.end < passage.end) piece++;
    if (piece < pieces.length && pieces[piece]!.start <= passage.start) sentPassages++;
  }
  return {
    reportChars: report.content.length,
    sentChars: pieces.reduce((n, p) => n + p.end - p.start, 0),
    passages: sentPassages,
    totalPassages: report.outline.passages.length,
    historyTurns: history.filter((m) => m.role === 'user').length,
  };
}

/** The newest contiguous run of history that fits, oldest first, starting with a user message. */
function selectHistory(history: HistoryMessage[], budget: number): { sent: HistoryMessage[]; dropped: number } {
  const kept: HistoryMessage[] = [];
  let remaining = budget;
  for (let i = history.length - 1; i >= 0; i--) {
    const message = history[i]!;
    if (message.content.trim() === '') continue; // providers reject empty turns; it counts as dropped below
    const cost = estimateTokens(message.content);
    if (cost > remaining) break; // skipping it to fit an older one would leave a hole in the conversation
    remaining -= cost;
    kept.push(message);
  }
  kept.reverse();
  // Providers that insist on alternation also insist the conversation opens with the user.
  while (kept[0]?.role === 'assistant') kept.shift();
  return { sent: kept, dropped: history.length - kept.length };
}

/** Merges consecutive same-role messages (joined by a blank line) and ends with the question. */
function toMessages(history: HistoryMessage[], question: string): ModelMessage[] {
  const merged: HistoryMessage[] = [];
  for (const message of [...history, { role: 'user' as const, content: question }]) {
    const last = merged[merged.length - 1];
    if (last && last.role === message.role) last.content = `${last.content}\n\n${message.content}`;
    else merged.push({ role: message.role, content: message.content });
  }
  return merged.map((m) => ({ role: m.role, content: m.content }));
}
