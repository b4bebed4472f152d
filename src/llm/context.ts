import type { ModelMessage } from 'ai';
import { neutraliseDelimiters, renderSystemPrompt, REPORT_TRUNCATED_MARKER } from './prompts.js';
import { estimateTokens } from './tokens.js';
import type { ContextInput, HistoryMessage, ModelInput } from './types.js';

/**
 * Bounds what is sent to the model; it never changes what is stored (older history is simply not sent).
 * Priority: the question, then the report (truncated visibly if it must be), then the newest history.
 */
export function buildModelInput(input: ContextInput): ModelInput {
  const questionTokens = estimateTokens(input.question);
  const report = fitReport(input.reportTitle, input.reportContent, input.maxTokens - questionTokens);
  const system = renderSystemPrompt(input.reportTitle, report);
  const historyBudget = input.maxTokens - estimateTokens(system) - questionTokens;
  const { sent, dropped } = selectHistory(input.history, historyBudget);
  const context = {
    reportChars: input.reportContent.length,
    sentChars: report.length,
    passages: 1,
    totalPassages: 1,
    historyTurns: sent.length,
  };
  return { system, messages: toMessages(sent, input.question), droppedHistory: dropped, context };
}

/** The report content, neutralised, cut so that the whole system prompt fits in `budget` tokens. */
function fitReport(title: string, content: string, budget: number): string {
  const safe = neutraliseDelimiters(content);
  const overhead = estimateTokens(renderSystemPrompt(title, ''));
  // ceil(a + b) <= ceil(a) + ceil(b): budgeting the parts separately never overshoots the whole.
  if (overhead + estimateTokens(safe) <= budget) return safe;
  const marker = `\n\n${REPORT_TRUNCATED_MARKER}`;
  const maxChars = Math.max(0, (budget - overhead - estimateTokens(marker)) * 4);
  return cutAtWhitespace(safe, maxChars).trimEnd() + marker;
}

function cutAtWhitespace(text: string, maxChars: number): string {
  let cut = Math.min(maxChars, text.length);
  const lastSpace = text.slice(0, cut + 1).search(/\s\S*$/);
  // Prefer a word boundary, but not at the cost of throwing away a long run of text.
  if (lastSpace > 0 && lastSpace >= cut - 200) cut = lastSpace;
  // Never split a surrogate pair.
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return text.slice(0, cut);
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
