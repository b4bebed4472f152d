import { startFakeProvider, sse, type FakeProviderServer, type FakeServerOptions, type RecordedRequest, type WireFormat } from './fake-behavior.js';

export type { FakeBehavior, FakeBlock, FakeCitation, FakeProviderServer, RecordedRequest } from './fake-behavior.js';

/**
 * The Anthropic Messages API's streaming format, as documented (message_start … message_stop), with text blocks
 * that cite a document (`citations_delta` with a `char_location`) and prompt caching: the prefix up to the last
 * `cache_control` breakpoint (tools, system, messages, in that order) is read from the cache when an earlier
 * request wrote the byte-identical prefix, and written to it otherwise, and the usage says so.
 */
function anthropicWire(): WireFormat {
  const cached = new Set<string>();
  const usageOf = (request: RecordedRequest) => {
    const prefix = cachedPrefix(request.body);
    const total = Math.ceil(JSON.stringify(request.body).length / 4);
    if (prefix === undefined) return { input_tokens: total, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
    const prefixTokens = Math.ceil(prefix.length / 4);
    const hit = cached.has(prefix);
    cached.add(prefix);
    return {
      input_tokens: Math.max(0, total - prefixTokens),
      cache_read_input_tokens: hit ? prefixTokens : 0,
      cache_creation_input_tokens: hit ? 0 : prefixTokens,
    };
  };
  const usageByRequest = new WeakMap<RecordedRequest, ReturnType<typeof usageOf>>();

  return {
    path: '/v1/messages',
    errorBody: (status) => ({
      type: 'error',
      error: { type: status === 529 ? 'overloaded_error' : status === 429 ? 'rate_limit_error' : 'api_error', message: 'Internal server error' },
    }),
    opening: (request) => {
      const usage = usageOf(request);
      usageByRequest.set(request, usage);
      return (
        sse('message_start', {
          type: 'message_start',
          message: {
            id: `msg_fake_${Date.now()}`,
            type: 'message',
            role: 'assistant',
            model: String(request.body?.model ?? 'claude-fake'),
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { ...usage, output_tokens: 1 },
          },
        }) + sse('ping', { type: 'ping' })
      );
    },
    blockStart: (index) =>
      sse('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '', citations: [] } }),
    citation: (index, c) =>
      sse('content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: {
          type: 'citations_delta',
          citation: {
            type: 'char_location',
            cited_text: c.citedText,
            document_index: c.documentIndex ?? 0,
            document_title: 'Report',
            start_char_index: c.start,
            end_char_index: c.end,
          },
        },
      }),
    chunk: (text, _request, index) => sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text } }),
    blockStop: (index) => sse('content_block_stop', { type: 'content_block_stop', index }),
    closing: (usage, request) =>
      sse('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { ...(usageByRequest.get(request) ?? { input_tokens: usage.inputTokens }), output_tokens: usage.outputTokens },
      }) + sse('message_stop', { type: 'message_stop' }),
    // Anthropic reports a failure mid-stream as an `error` event and ends the response.
    fail: (res) => {
      res.end(sse('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    },
  };
}

/**
 * The request's cacheable prefix, as the API reads it: tools, then system, then messages, up to and including
 * the last block that carries `cache_control`; undefined without a breakpoint.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function cachedPrefix(body: any): string | undefined {
  const blocks: unknown[] = [];
  let last = -1;
  const add = (block: unknown) => {
    blocks.push(block);
    if (typeof block === 'object' && block !== null && 'cache_control' in block && block.cache_control != null) last = blocks.length;
  };
  for (const tool of body?.tools ?? []) add(tool);
  for (const block of typeof body?.system === 'string' ? [{ type: 'text', text: body.system }] : (body?.system ?? [])) add(block);
  for (const message of body?.messages ?? []) {
    const content = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
    for (const block of content) add({ role: message.role, ...block });
  }
  return last < 0 ? undefined : JSON.stringify(blocks.slice(0, last));
}

/** The document blocks of a request, in order: what a `char_location` citation's `document_index` counts. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function documentsOf(request: RecordedRequest): Array<{ title?: string; text: string; block: any }> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (request.body?.messages ?? []).flatMap((m: any) =>
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (Array.isArray(m.content) ? m.content : []).flatMap((block: any) =>
      block.type === 'document' && block.source?.type === 'text' ? [{ title: block.title, text: String(block.source.data), block }] : [],
    ),
  );
}

export function startFakeAnthropic(opts: FakeServerOptions = {}): Promise<FakeProviderServer> {
  return startFakeProvider(anthropicWire(), opts);
}
