import { startFakeProvider, sse, type FakeProviderServer, type FakeServerOptions, type WireFormat } from './fake-behavior.js';

export type { FakeBehavior, FakeProviderServer, RecordedRequest } from './fake-behavior.js';

/** The Anthropic Messages API's streaming format, as documented (message_start … message_stop). */
const anthropicWire: WireFormat = {
  path: '/v1/messages',
  errorBody: (status) => ({
    type: 'error',
    error: { type: status === 529 ? 'overloaded_error' : status === 429 ? 'rate_limit_error' : 'api_error', message: 'Internal server error' },
  }),
  opening: (request) =>
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
        usage: { input_tokens: 0, output_tokens: 1 },
      },
    }) +
    sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
    sse('ping', { type: 'ping' }),
  chunk: (text) => sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }),
  closing: (usage) =>
    sse('content_block_stop', { type: 'content_block_stop', index: 0 }) +
    sse('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens },
    }) +
    sse('message_stop', { type: 'message_stop' }),
  // Anthropic reports a failure mid-stream as an `error` event and ends the response.
  fail: (res) => {
    res.end(sse('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
  },
};

export function startFakeAnthropic(opts: FakeServerOptions = {}): Promise<FakeProviderServer> {
  return startFakeProvider(anthropicWire, opts);
}
