import type { ModelMessage } from 'ai';
import { renderPrompt } from './prompt-input.js';
import { REPORT_TRUNCATED_MARKER } from './prompts.js';
import { splitReport } from './passages.js';
import { excerptOf, wholeReport, type ReportExcerpt } from './report-excerpt.js';
import { estimateTokens } from './tokens.js';
import type { ContextInput, ContextRecord, HistoryMessage, ModelInput, SentReport } from './types.js';

/**
 * Bounds what is sent to the model; it never changes what is stored (older history is simply not sent).
 * Priority: the question, then the report (truncated visibly if it must be), then the newest history.
 */
export function buildModelInput(input: ContextInput): ModelInput {
  const questionTokens = estimateTokens(input.question);
  const outline = splitReport(input.reportContent);
  const base = { title: input.reportTitle, content: input.reportContent, outline };
  const overhead = promptTokens({ ...base, excerpt: wholeReport('') });
  const reportBudget = input.maxTokens - questionTokens - overhead;
  const report: SentReport = { ...base, excerpt: fitReport(input.reportContent, reportBudget) };
  const historyBudget = input.maxTokens - promptTokens(report) - questionTokens;
  const { sent, dropped } = selectHistory(input.history, historyBudget);
  return { report, messages: toMessages(sent, input.question), droppedHistory: dropped, context: contextRecord(report, sent) };
}

/** The system prompt's size as the largest rendering (labelled passages) makes it. */
function promptTokens(report: SentReport): number {
  const { prompt } = renderPrompt({ report, messages: [{ role: 'user', content: '' }], droppedHistory: 0, context: emptyRecord });
  return estimateTokens(prompt[0]!.content as string);
}

const emptyRecord: ContextRecord = { reportChars: 0, sentChars: 0, passages: 0, totalPassages: 0, historyTurns: 0 };

function contextRecord(report: SentReport, history: HistoryMessage[]): ContextRecord {
  const { pieces } = report.excerpt;
  const sentPassages = report.outline.passages.filter((p) => pieces.some((piece) => p.start >= piece.start && p.end <= piece.end));
  return {
    reportChars: report.content.length,
    sentChars: pieces.reduce((n, piece) => n + piece.end - piece.start, 0),
    passages: sentPassages.length,
    totalPassages: report.outline.passages.length,
    historyTurns: history.filter((m) => m.role === 'user').length,
  };
}

/** The report, cut so that it fits in `budget` tokens (labels included, roughly one per passage). */
function fitReport(content: string, budget: number): ReportExcerpt {
  const marker = `\n\n${REPORT_TRUNCATED_MARKER}`;
  // Labels add a few characters per passage; 2 tokens each keeps the estimate on the safe side.
  const labelTokens = (text: string) => 2 * (text.match(/\n\s*\n/g)?.length ?? 0) + 2;
  if (estimateTokens(content) + labelTokens(content) <= budget) return wholeReport(content);
  let maxChars = Math.max(0, (budget - estimateTokens(marker)) * 4);
  let cut = cutAtWhitespace(content, maxChars);
  while (cut > 0 && estimateTokens(content.slice(0, cut)) + labelTokens(content.slice(0, cut)) + estimateTokens(marker) > budget) {
    maxChars = Math.floor(maxChars * 0.95);
    cut = cutAtWhitespace(content, maxChars);
  }
  return excerptOf(content, [{ start: 0, end: cut }], (from, to) => (to > from ? marker : ''));
}

function cutAtWhitespace(text: string, maxChars: number): number {
  let cut = Math.min(maxChars, text.length);
  const lastSpace = text.slice(0, cut + 1).search(/\s\S*$/);
  // Prefer a word boundary, but not at the cost of throwing away a long run of text.
  if (lastSpace > 0 && lastSpace >= cut - 200) cut = lastSpace;
  // Never split a surrogate pair.
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  while (cut > 0 && /\s/.test(text[cut - 1]!)) cut--;
  return cut;
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
