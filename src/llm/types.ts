import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { ModelMessage } from 'ai';

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
}

/** The member who wrote a message; the model is told whose words each message is. */
export interface MessageAuthor {
  id: string;
  name: string | null;
}

export interface HistoryMessage {
  role: 'user' | 'assistant';
  content: string;
  /** Of a user message; undefined when it is not known (a message stored before authors were). */
  author?: MessageAuthor;
}

export interface ContextInput {
  reportTitle: string;
  reportContent: string;
  /** Earlier completed messages, oldest first. */
  history: HistoryMessage[];
  question: string;
  /** Who asks the question. */
  questionAuthor?: MessageAuthor;
  maxTokens: number;
}

export interface ModelInput {
  system: string;
  messages: ModelMessage[];
  /** History messages that were not sent (over budget, blank, or a leading assistant message). */
  droppedHistory: number;
}

export type AnswerEvent =
  | { type: 'delta'; text: string }
  | { type: 'finish'; inputTokens?: number; outputTokens?: number }
  /** `message` is safe to show a person: no stack, URL or key. `cause` is for logs only. */
  | { type: 'error'; message: string; cause: unknown };
