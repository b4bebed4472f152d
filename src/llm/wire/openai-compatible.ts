import {
  UnsupportedFunctionalityError,
  type LanguageModelV3CallOptions,
  type LanguageModelV3FinishReason,
  type LanguageModelV3Prompt,
  type LanguageModelV3Usage,
} from '@ai-sdk/provider';
import type { Emit, WireEvents } from './response-parts.js';
import { WireModel, type WireCall } from './wire-model.js';

/**
 * An OpenAI-compatible chat completions API (OpenAI, Ollama, llama.cpp, vLLM, …), streaming, for the prompts
 * report-chat sends: a system prompt and text turns. Each `data:` chunk's `choices[0].delta.content` is a text delta;
 * the usage chunk (`stream_options.include_usage`) and `[DONE]` end it.
 */
export class OpenAICompatibleChatModel extends WireModel {
  readonly provider = 'openai-compatible.chat';

  constructor(
    modelId: string,
    private readonly settings: { baseUrl: string; apiKey?: string },
  ) {
    super(modelId, settings.baseUrl, '/chat/completions');
  }

  protected call(options: LanguageModelV3CallOptions): WireCall {
    // No key is fine: local servers such as Ollama or llama.cpp accept requests without one.
    const headers: Record<string, string> = this.settings.apiKey ? { authorization: `Bearer ${this.settings.apiKey}` } : {};
    return { headers, body: openAIRequest(this.modelId, options.prompt, options.maxOutputTokens), events: new ChatCompletionEvents() };
  }
}

type ChatContent = string | Array<{ type: 'text'; text: string }>;

export function openAIRequest(modelId: string, prompt: LanguageModelV3Prompt, maxOutputTokens?: number) {
  const messages: Array<{ role: 'system' | 'user' | 'assistant'; content: ChatContent }> = [];
  for (const message of prompt) {
    if (message.role === 'system') {
      messages.push({ role: 'system', content: message.content });
      continue;
    }
    if (message.role !== 'user' && message.role !== 'assistant') throw new UnsupportedFunctionalityError({ functionality: `${message.role} messages` });
    const texts = message.content.map((part) => {
      if (part.type !== 'text') throw new UnsupportedFunctionalityError({ functionality: `${part.type} parts` });
      return part.text;
    });
    // One text is sent as a string, which every compatible server accepts; an assistant's parts are one string.
    const content: ChatContent = texts.length === 1 || message.role === 'assistant' ? texts.join('') : texts.map((text) => ({ type: 'text' as const, text }));
    messages.push({ role: message.role, content });
  }
  return {
    model: modelId,
    messages,
    ...(maxOutputTokens !== undefined && { max_tokens: maxOutputTokens }),
    stream: true,
    stream_options: { include_usage: true },
  };
}

interface Chunk {
  choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } | null } | null;
  error?: unknown;
}

class ChatCompletionEvents implements WireEvents {
  private open = false;
  private finishReason: string | undefined;
  private usage: Chunk['usage'];
  private done = false;

  event(_name: string, data: string, emit: Emit): void {
    if (data === '[DONE]') {
      this.finish(emit);
      return;
    }
    const chunk = JSON.parse(data) as Chunk;
    if (chunk.error !== undefined) {
      emit({ type: 'error', error: chunk.error });
      return;
    }
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) return;
    const text = choice.delta?.content;
    if (typeof text === 'string' && text !== '') {
      if (!this.open) emit({ type: 'text-start', id: '0' });
      this.open = true;
      emit({ type: 'text-delta', id: '0', delta: text });
    }
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
  }

  /** A server that says why it stopped but sends no `[DONE]` (some do) has still finished. */
  end(emit: Emit): void {
    if (this.finishReason !== undefined) this.finish(emit);
  }

  private finish(emit: Emit): void {
    if (this.done) return;
    this.done = true;
    if (this.open) emit({ type: 'text-end', id: '0' });
    emit({ type: 'finish', usage: usageOf(this.usage), finishReason: finishReasonOf(this.finishReason) });
  }
}

function usageOf(usage: Chunk['usage']): LanguageModelV3Usage {
  const cached = usage?.prompt_tokens_details?.cached_tokens;
  const input = usage?.prompt_tokens;
  return {
    inputTokens: { total: input, noCache: input !== undefined && cached !== undefined ? input - cached : input, cacheRead: cached, cacheWrite: undefined },
    outputTokens: { total: usage?.completion_tokens, text: undefined, reasoning: undefined },
  };
}

const FINISH_REASONS = new Map<string, LanguageModelV3FinishReason['unified']>([
  ['stop', 'stop'],
  ['length', 'length'],
  ['content_filter', 'content-filter'],
  ['tool_calls', 'tool-calls'],
  ['function_call', 'tool-calls'],
]);

function finishReasonOf(reason: string | undefined): LanguageModelV3FinishReason {
  return { unified: (reason && FINISH_REASONS.get(reason)) || 'other', raw: reason };
}
