import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { ModelMessage } from 'ai';
import type { ReportOutline } from './passages.js';
import type { ReportExcerpt } from './report-excerpt.js';

/** The model settings the config layer resolves; this layer never reads the environment itself. */
export interface LlmConfig {
  provider: 'local' | 'anthropic' | 'openai-compatible';
  model?: string;
  baseUrl?: string;
  apiKey?: string;
  localChunkDelayMs: number;
}

export interface AnswerModel {
  model: LanguageModelV3;
  /** Stored with each answer, e.g. 'local', 'anthropic:claude-sonnet-4-5'. */
  id: string;
  /**
   * How the model is given the report and cites it: `document`, a document content block whose cited character
   * ranges come back as `source` parts (Anthropic, the local model); `labels` (the default), labelled passages in
   * the system prompt, cited in the text as `[P7]`.
   */
  citations?: 'document' | 'labels';
}

export interface HistoryMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ContextInput {
  reportTitle: string;
  /** The report's stored content: every source's offsets point into exactly this string. */
  reportContent: string;
  /** Earlier completed messages, oldest first. */
  history: HistoryMessage[];
  question: string;
  maxTokens: number;
}

export interface ModelInput {
  /** The report as it is sent, and what checking a citation of it needs. */
  report: SentReport;
  /** Earlier turns and the question; the report and the rules are added per provider (prompt-input.ts). */
  messages: ModelMessage[];
  /** History messages that were not sent (over budget, blank, or a leading assistant message). */
  droppedHistory: number;
  /** Stored with the answer. */
  context: ContextRecord;
}

export interface SentReport {
  title: string;
  /** The stored report: sources point into it. */
  content: string;
  outline: ReportOutline;
  /** The whole report, or a selection of its passages. */
  excerpt: ReportExcerpt;
  /** Every heading, one a line, indented by level: sent when the excerpt is a selection. */
  tableOfContents?: string;
}

/**
 * A passage of the stored report that an answer rests on, already verified: `quote === reportContent.slice(start,
 * end)` (UTF-16 offsets). `n` is the number the answer's text uses for it (`[n]`); `heading` is the heading path
 * of its section (`Findings › Cold start`), '' before the first heading.
 */
export interface Source {
  n: number;
  start: number;
  end: number;
  quote: string;
  heading: string;
}

/** What an answer was given: the whole report, or a selection of its passages, and how many history turns. */
export interface ContextRecord {
  reportChars: number;
  sentChars: number;
  /** Report passages sent, and passages in the whole report: `passages < totalPassages` means a selection. */
  passages: number;
  totalPassages: number;
  historyTurns: number;
}

export interface AnswerUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

/**
 * Every `source` is verified before it is yielded, and is yielded no later than the delta that ends the answer's
 * text, once its `[n]` marker is in the text already yielded (a marker with no source is plain text). Joined
 * `delta` texts are exactly the answer's text, markers included.
 */
export type AnswerEvent =
  | { type: 'delta'; text: string }
  | { type: 'source'; source: Source }
  | ({ type: 'finish'; rejectedCitations: number } & AnswerUsage)
  /** `message` is safe to show a person: no stack, URL or key. `cause` is for logs only. */
  | { type: 'error'; message: string; cause: unknown };
