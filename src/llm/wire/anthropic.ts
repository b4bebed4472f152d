import {
  UnsupportedFunctionalityError,
  type LanguageModelV3CallOptions,
  type LanguageModelV3FinishReason,
  type LanguageModelV3Prompt,
  type LanguageModelV3Usage,
  type SharedV3ProviderOptions,
} from '@ai-sdk/provider';
import type { Emit, WireEvents } from './response-parts.js';
import { WireModel, type WireCall } from './wire-model.js';

const API_VERSION = '2023-06-01';

/**
 * Claude 3 models (not 3.5 or 3.7) stop at 4,096 output tokens; later ones accept far more than an answer about a
 * report needs, and a limit the model rejects would fail every answer.
 */
export function maxTokensFor(modelId: string): number {
  return /^claude-3-(?:opus|sonnet|haiku)/.test(modelId) ? 4_096 : 8_192;
}

/**
 * Anthropic's Messages API, streaming, for the prompts report-chat sends: a system prompt, text turns and a text
 * document with citations on, with `cacheControl` breakpoints. Requested and read as the API documents it
 * (https://docs.anthropic.com/en/api/messages-streaming): `char_location` citations become `source` parts carrying
 * `startCharIndex`, `endCharIndex` and `citedText`, as the AI SDK's provider reports them.
 */
export class AnthropicMessagesModel extends WireModel {
  readonly provider = 'anthropic.messages';

  constructor(
    modelId: string,
    private readonly settings: { baseUrl: string; apiKey: string },
  ) {
    super(modelId, settings.baseUrl, '/messages');
  }

  protected call(options: LanguageModelV3CallOptions): WireCall {
    return {
      headers: { 'x-api-key': this.settings.apiKey, 'anthropic-version': API_VERSION },
      body: anthropicRequest(this.modelId, options.prompt, options.maxOutputTokens),
      events: new AnthropicEvents(this.modelId),
    };
  }
}

type CacheControl = { type: 'ephemeral'; ttl?: '5m' | '1h' };
type Block =
  | { type: 'text'; text: string; cache_control?: CacheControl }
  | {
      type: 'document';
      source: { type: 'text'; media_type: 'text/plain'; data: string };
      title?: string;
      citations?: { enabled: true };
      cache_control?: CacheControl;
    };

/** The request body; consecutive messages of one role are one message, as the API requires them to alternate. */
export function anthropicRequest(modelId: string, prompt: LanguageModelV3Prompt, maxOutputTokens?: number) {
  const system: Block[] = [];
  const messages: Array<{ role: 'user' | 'assistant'; content: Block[] }> = [];
  for (const message of prompt) {
    if (message.role === 'system') {
      system.push(withCache({ type: 'text', text: message.content }, message.providerOptions));
      continue;
    }
    if (message.role !== 'user' && message.role !== 'assistant') throw new UnsupportedFunctionalityError({ functionality: `${message.role} messages` });
    const content: Block[] = message.content.map((part) => {
      if (part.type === 'text') return withCache({ type: 'text', text: part.text }, part.providerOptions);
      if (part.type === 'file' && part.mediaType === 'text/plain' && message.role === 'user') return documentBlock(part);
      throw new UnsupportedFunctionalityError({ functionality: `${part.type} parts in ${message.role} messages` });
    });
    // A message's own cache breakpoint goes on its last block, as the API places breakpoints on blocks.
    const last = content.at(-1);
    if (last && !last.cache_control) {
      const cache = cacheControlOf(message.providerOptions);
      if (cache) content[content.length - 1] = { ...last, cache_control: cache };
    }
    const previous = messages.at(-1);
    if (previous?.role === message.role) previous.content.push(...content);
    else messages.push({ role: message.role, content });
  }
  return {
    model: modelId,
    max_tokens: maxOutputTokens ?? maxTokensFor(modelId),
    ...(system.length > 0 && { system }),
    messages,
    stream: true,
  };
}

function documentBlock(part: Extract<Extract<LanguageModelV3Prompt[number], { role: 'user' }>['content'][number], { type: 'file' }>): Block {
  const options = part.providerOptions?.anthropic as { title?: unknown; citations?: { enabled?: unknown } } | undefined;
  const { data } = part;
  if (data instanceof URL) throw new UnsupportedFunctionalityError({ functionality: 'documents by URL' });
  const text = typeof data === 'string' ? Buffer.from(data, 'base64').toString('utf8') : new TextDecoder().decode(data);
  const title = typeof options?.title === 'string' ? options.title : part.filename;
  return withCache(
    {
      type: 'document',
      source: { type: 'text', media_type: 'text/plain', data: text },
      ...(title !== undefined && { title }),
      ...(options?.citations?.enabled === true && { citations: { enabled: true as const } }),
    },
    part.providerOptions,
  );
}

function cacheControlOf(options: SharedV3ProviderOptions | undefined): CacheControl | undefined {
  const anthropic = options?.anthropic as { cacheControl?: unknown; cache_control?: unknown } | undefined;
  const value = (anthropic?.cacheControl ?? anthropic?.cache_control) as CacheControl | undefined;
  return value?.type === 'ephemeral' ? value : undefined;
}

function withCache<B extends Block>(block: B, options: SharedV3ProviderOptions | undefined): B {
  const cache = cacheControlOf(options);
  return cache ? { ...block, cache_control: cache } : block;
}

interface Usage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** Stream events (message_start … message_stop) as V3 parts. */
class AnthropicEvents implements WireEvents {
  private usage: Usage = {};
  private stopReason: string | null = null;
  /** The open content blocks that are text, by index: only those become text parts (not thinking, tool use…). */
  private readonly textBlocks = new Set<number>();
  private sources = 0;

  constructor(private readonly modelId: string) {}

  event(name: string, data: string, emit: Emit): void {
    if (name === 'ping') return;
    const value = JSON.parse(data) as AnthropicEvent;
    switch (value.type) {
      case 'content_block_delta': {
        const { delta } = value;
        if (delta.type === 'text_delta') emit({ type: 'text-delta', id: String(value.index), delta: delta.text });
        else if (delta.type === 'citations_delta') this.citation(delta.citation, emit);
        return;
      }
      case 'content_block_start': {
        if (value.content_block.type !== 'text') return;
        this.textBlocks.add(value.index);
        emit({ type: 'text-start', id: String(value.index) });
        return;
      }
      case 'content_block_stop':
        if (this.textBlocks.delete(value.index)) emit({ type: 'text-end', id: String(value.index) });
        return;
      case 'message_start':
        this.usage = { ...value.message.usage };
        emit({ type: 'response-metadata', id: value.message.id, modelId: value.message.model ?? this.modelId });
        return;
      case 'message_delta':
        // Its usage is cumulative: counts it carries replace the opening ones.
        for (const [key, count] of Object.entries(value.usage ?? {})) if (typeof count === 'number') this.usage[key as keyof Usage] = count;
        this.stopReason = value.delta?.stop_reason ?? this.stopReason;
        return;
      case 'message_stop':
        emit({ type: 'finish', usage: usageOf(this.usage), finishReason: finishReasonOf(this.stopReason) });
        return;
      case 'error':
        // A plain object ({type, message}), which the error message reads its type from.
        emit({ type: 'error', error: value.error });
        return;
      default:
        // Event types added to the API later are ignored, as its versioning policy asks of clients.
        return;
    }
  }

  end(): void {
    // Without message_stop the answer did not finish; streamAnswer says so ("stopped responding").
  }

  private citation(citation: Citation, emit: Emit): void {
    if (citation.type !== 'char_location') return;
    emit({
      type: 'source',
      sourceType: 'document',
      id: `${this.modelId}-citation-${this.sources++}`,
      mediaType: 'text/plain',
      title: citation.document_title ?? 'Document',
      providerMetadata: {
        anthropic: { citedText: citation.cited_text, startCharIndex: citation.start_char_index, endCharIndex: citation.end_char_index },
      },
    });
  }
}

interface CharLocation {
  type: 'char_location';
  cited_text: string;
  document_index: number;
  document_title?: string | null;
  start_char_index: number;
  end_char_index: number;
}
/** Other locations (pages, content blocks, search results) cite what report-chat never sends. */
type Citation = CharLocation | { type: 'page_location' | 'content_block_location' | 'web_search_result_location' };

type AnthropicEvent =
  | { type: 'message_start'; message: { id: string; model?: string; usage: Usage } }
  | { type: 'content_block_start'; index: number; content_block: { type: string } }
  | { type: 'content_block_delta'; index: number; delta: { type: 'text_delta'; text: string } | { type: 'citations_delta'; citation: Citation } | { type: 'other' } }
  | { type: 'content_block_stop'; index: number }
  | { type: 'message_delta'; delta?: { stop_reason?: string | null }; usage?: Usage }
  | { type: 'message_stop' }
  | { type: 'error'; error: { type: string; message: string } }
  | { type: 'other' };

function usageOf(usage: Usage): LanguageModelV3Usage {
  const input = usage.input_tokens ?? 0;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  return {
    inputTokens: { total: input + cacheRead + cacheWrite, noCache: input, cacheRead, cacheWrite },
    outputTokens: { total: usage.output_tokens ?? undefined, text: undefined, reasoning: undefined },
  };
}

const FINISH_REASONS = new Map<string, LanguageModelV3FinishReason['unified']>([
  ['end_turn', 'stop'],
  ['stop_sequence', 'stop'],
  ['pause_turn', 'stop'],
  ['max_tokens', 'length'],
  ['refusal', 'content-filter'],
  ['tool_use', 'tool-calls'],
]);

function finishReasonOf(reason: string | null): LanguageModelV3FinishReason {
  return { unified: (reason && FINISH_REASONS.get(reason)) || 'other', raw: reason ?? undefined };
}
