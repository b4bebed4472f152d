import { startFakeProvider, sse, type FakeProviderServer, type FakeServerOptions, type WireFormat } from './fake-behavior.js';

export type { FakeBehavior, FakeProviderServer, RecordedRequest } from './fake-behavior.js';

function completionChunk(request: { body?: { model?: unknown } }, rest: object): object {
  return { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1_700_000_000, model: String(request.body?.model ?? 'fake'), ...rest };
}

/** OpenAI chat completions streaming: `data:` chunks, a usage chunk (stream_options.include_usage), `[DONE]`. */
const openaiWire: WireFormat = {
  path: '/v1/chat/completions',
  errorBody: (status) => ({
    error: { message: 'The server had an error while processing your request.', type: status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code: null },
  }),
  opening: (request) =>
    sse(undefined, completionChunk(request, { choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })),
  blockStart: () => '',
  citation: () => '',
  blockStop: () => '',
  chunk: (text, request) =>
    sse(undefined, completionChunk(request, { choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })),
  closing: (usage, request) =>
    sse(undefined, completionChunk(request, { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })) +
    sse(
      undefined,
      completionChunk(request, {
        choices: [],
        usage: { prompt_tokens: usage.inputTokens, completion_tokens: usage.outputTokens, total_tokens: usage.inputTokens + usage.outputTokens },
      }),
    ) +
    sse(undefined, '[DONE]'),
  // An OpenAI-compatible server that crashes mid-answer just drops the connection. `end()` on the socket (not
  // `destroy()`) first flushes the chunks already written, as a real crash after sending them would have.
  fail: (res) => {
    res.socket?.end();
  },
};

export function startFakeOpenAI(opts: FakeServerOptions = {}): Promise<FakeProviderServer> {
  return startFakeProvider(openaiWire, opts);
}
