import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { LanguageModelV3, LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicRequest, AnthropicMessagesModel, maxTokensFor } from '../src/llm/wire/anthropic.js';
import { OpenAICompatibleChatModel } from '../src/llm/wire/openai-compatible.js';

/**
 * The wire clients against a server that writes exactly the bytes a test gives it, cut where the test cuts them:
 * what the shared fakes (test/fakes) never send.
 */
let server: Server;
let baseUrl: string;
let respond: (res: ServerResponse) => void = (res) => res.end();
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => respond(res));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const prompt = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Hi' }] }];

async function parts(model: LanguageModelV3, pieces: Array<string | Buffer>, gapMs = 2): Promise<LanguageModelV3StreamPart[]> {
  respond = (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    void (async () => {
      for (const piece of pieces) {
        res.write(piece);
        await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
      res.end();
    })();
  };
  const { stream } = await model.doStream({ prompt, abortSignal: AbortSignal.timeout(5_000) });
  const out: LanguageModelV3StreamPart[] = [];
  const reader = stream.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) out.push(next.value);
  return out;
}

const openai = () => new OpenAICompatibleChatModel('m', { baseUrl });
const anthropic = () => new AnthropicMessagesModel('claude-test', { baseUrl, apiKey: 'k' });
const text = (all: LanguageModelV3StreamPart[]) => all.flatMap((p) => (p.type === 'text-delta' ? [p.delta] : [])).join('');
const chunk = (content: string, finish: string | null = null) => `data: ${JSON.stringify({ choices: [{ delta: { content }, finish_reason: finish }] })}\n\n`;

describe('the OpenAI-compatible wire client', () => {
  it('keeps a character whose UTF-8 bytes arrive in two pieces, and reads CRLF events', { timeout: 10_000 }, async () => {
    const bytes = Buffer.from(chunk('12 € net').replace(/\n/g, '\r\n'));
    const cut = bytes.indexOf(Buffer.from('€')) + 1;
    const all = await parts(openai(), [bytes.subarray(0, cut), bytes.subarray(cut), chunk('', 'stop'), 'data: [DONE]\n\n']);
    expect(text(all)).toBe('12 € net');
    expect(all.at(-1)).toMatchObject({ type: 'finish', finishReason: { unified: 'stop' } });
  });

  it('finishes on a finish reason without [DONE], and not at all on neither', { timeout: 10_000 }, async () => {
    expect((await parts(openai(), [chunk('a'), chunk('b', 'length')])).at(-1)).toMatchObject({ type: 'finish', finishReason: { unified: 'length' } });
    const cut = await parts(openai(), [chunk('a'), chunk('b')]);
    expect(text(cut)).toBe('ab');
    expect(cut.some((p) => p.type === 'finish')).toBe(false);
  });

  it('reports usage with cached prompt tokens', { timeout: 10_000 }, async () => {
    const usage = `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 100, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 60 } } })}\n\n`;
    const all = await parts(openai(), [chunk('a', 'stop'), usage, 'data: [DONE]\n\n']);
    expect(all.at(-1)).toMatchObject({ type: 'finish', usage: { inputTokens: { total: 100, noCache: 40, cacheRead: 60 }, outputTokens: { total: 7 } } });
  });

  it('turns an event that is not JSON into an error part and ends the stream', { timeout: 10_000 }, async () => {
    const all = await parts(openai(), [chunk('a'), 'data: {not json\n\n', chunk('never read')]);
    expect(text(all)).toBe('a');
    expect(all.at(-1)).toMatchObject({ type: 'error' });
  });

  it('closes the connection when the reader cancels mid-answer', { timeout: 10_000 }, async () => {
    let closed = false;
    respond = (res) => {
      res.on('close', () => (closed = true));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk('a')); // and nothing more: only the client can end this response
    };
    const { stream } = await openai().doStream({ prompt });
    const reader = stream.getReader();
    while ((await reader.read()).value?.type !== 'text-delta');
    await reader.cancel();
    for (let i = 0; i < 100 && !closed; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closed).toBe(true);
  });
});

describe('the Anthropic wire client', () => {
  const event = (name: string, data: object) => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;

  it('reads text, char_location citations, cumulative usage and the stop reason', { timeout: 10_000 }, async () => {
    const all = await parts(anthropic(), [
      event('message_start', { message: { id: 'msg_1', model: 'claude-test', usage: { input_tokens: 5, cache_read_input_tokens: 90, cache_creation_input_tokens: 10, output_tokens: 1 } } }),
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '', citations: [] } }),
      event('content_block_delta', {
        index: 0,
        delta: { type: 'citations_delta', citation: { type: 'char_location', cited_text: 'grew 12%', document_index: 0, document_title: 'R', start_char_index: 3, end_char_index: 11 } },
      }),
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'It grew.' } }),
      event('content_block_stop', { index: 0 }),
      event('some_future_event', {}),
      event('message_delta', { delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: 42 } }),
      event('message_stop', {}),
    ]);
    expect(text(all)).toBe('It grew.');
    expect(all.find((p) => p.type === 'source')).toMatchObject({
      sourceType: 'document',
      providerMetadata: { anthropic: { citedText: 'grew 12%', startCharIndex: 3, endCharIndex: 11 } },
    });
    expect(all.map((p) => p.type)).toEqual(['stream-start', 'response-metadata', 'text-start', 'source', 'text-delta', 'text-end', 'finish']);
    expect(all.at(-1)).toMatchObject({
      finishReason: { unified: 'length', raw: 'max_tokens' },
      usage: { inputTokens: { total: 105, noCache: 5, cacheRead: 90, cacheWrite: 10 }, outputTokens: { total: 42 } },
    });
  });

  it('builds a request whose roles alternate, with cache breakpoints where the prompt put them', () => {
    const body = anthropicRequest('claude-sonnet-4-5', [
      { role: 'system', content: 'rules', providerOptions: { anthropic: { cacheControl: { type: 'ephemeral' } } } },
      {
        role: 'user',
        content: [
          {
            type: 'file',
            mediaType: 'text/plain',
            filename: 'Report',
            data: new TextEncoder().encode('the report'),
            providerOptions: { anthropic: { citations: { enabled: true }, title: 'Q3', cacheControl: { type: 'ephemeral' } } },
          },
          { type: 'text', text: 'first' },
        ],
      },
      { role: 'user', content: [{ type: 'text', text: 'second' }], providerOptions: { anthropic: { cacheControl: { type: 'ephemeral' } } } },
      { role: 'assistant', content: [{ type: 'text', text: 'answer' }] },
      { role: 'user', content: [{ type: 'text', text: 'third' }] },
    ]);
    expect(body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 8_192,
      system: [{ type: 'text', text: 'rules', cache_control: { type: 'ephemeral' } }],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'the report' }, title: 'Q3', citations: { enabled: true }, cache_control: { type: 'ephemeral' } },
            { type: 'text', text: 'first' },
            { type: 'text', text: 'second', cache_control: { type: 'ephemeral' } },
          ],
        },
        { role: 'assistant', content: [{ type: 'text', text: 'answer' }] },
        { role: 'user', content: [{ type: 'text', text: 'third' }] },
      ],
      stream: true,
    });
    expect(maxTokensFor('claude-3-haiku-20240307')).toBe(4_096);
    expect(maxTokensFor('claude-3-5-haiku-latest')).toBe(8_192);
  });
});
