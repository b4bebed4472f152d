import { describe, expect, it } from 'vitest';
import { buildModelInput, createAnswerModel, streamAnswer, type AnswerEvent, type HistoryMessage } from '../src/llm/index.js';
import { cachedPrefix, startFakeAnthropic } from './fakes/fake-anthropic-server.js';
import type { RecordedRequest } from './fakes/fake-behavior.js';
import { longReport } from './fakes/long-report.js';
import { useFakeProvider } from './support/fake-provider.js';

const REPORT = longReport(40_000, 7);
const ALICE = { id: '0a11ce00-0000-4000-8000-000000000001', name: 'Alice' };

describe('anthropic prompt caching', () => {
  const fake = useFakeProvider(startFakeAnthropic);
  const model = () => createAnswerModel({ provider: 'anthropic', baseUrl: fake().baseUrl, apiKey: 'k', localChunkDelayMs: 0 });

  async function turn(report: string, history: HistoryMessage[], question: string, maxTokens = 100_000) {
    const input = buildModelInput({ reportTitle: 'Operations review', reportContent: report, history, question, questionAuthor: ALICE, maxTokens });
    const events: AnswerEvent[] = [];
    for await (const event of streamAnswer({ model: model(), input, signal: new AbortController().signal })) events.push(event);
    const text = events.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('');
    return { text, finish: events.at(-1) as Extract<AnswerEvent, { type: 'finish' }>, request: fake().requests.at(-1)! };
  }

  /** Every block of the request with a cache breakpoint, as [where, block type]. */
  const breakpoints = (request: RecordedRequest) => [
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    ...(request.body.system ?? []).flatMap((b: any) => (b.cache_control ? [['system', b.type, b.cache_control]] : [])),
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    ...request.body.messages.flatMap((m: any, i: number) => m.content.flatMap((b: any) => (b.cache_control ? [[`message ${i}`, b.type, b.cache_control]] : []))),
  ];

  it('sends two turns of a conversation with a byte-identical prefix up to the breakpoint on the report', { timeout: 20_000 }, async () => {
    fake().setBehavior({ chunks: ['Chapter one ', 'covers it.'] });
    const first = await turn(REPORT, [], 'What does chapter 1 cover?');
    const second = await turn(
      REPORT,
      [
        { role: 'user', content: 'What does chapter 1 cover?', author: ALICE },
        { role: 'assistant', content: first.text },
      ],
      'And chapter 2?',
    );
    expect(breakpoints(first.request)).toEqual([['message 0', 'document', { type: 'ephemeral' }]]);
    expect(breakpoints(second.request)).toEqual([['message 0', 'document', { type: 'ephemeral' }]]);
    const prefix = cachedPrefix(first.request.body)!;
    expect(prefix).toContain(JSON.stringify(REPORT).slice(1, 2_000)); // the report is inside the cached prefix
    expect(cachedPrefix(second.request.body)).toBe(prefix);
    // Nothing of the turn (the question, its author's message, the history) is in the prefix.
    expect(prefix).not.toContain('chapter 1 cover');
    expect(prefix).not.toContain('And chapter 2');
    expect(first.finish).toMatchObject({ cacheReadTokens: 0, cacheWriteTokens: Math.ceil(prefix.length / 4) });
    expect(second.finish).toMatchObject({ cacheReadTokens: Math.ceil(prefix.length / 4), cacheWriteTokens: 0 });
    expect(second.finish.inputTokens).toBeGreaterThan(second.finish.cacheReadTokens!);
  });

  it('caches the rules and the table of contents apart when the report is sent as a selection', { timeout: 30_000 }, async () => {
    const long = longReport(400_000, 9);
    fake().setBehavior({ chunks: ['Noted.'] });
    const first = await turn(long, [], 'What happened in chapter 3?', 20_000);
    const second = await turn(long, [], 'What happened in chapter 12?', 20_000);
    for (const { request } of [first, second]) {
      expect(breakpoints(request)).toEqual([
        ['system', 'text', { type: 'ephemeral' }],
        ['message 0', 'document', { type: 'ephemeral' }],
      ]);
    }
    expect(JSON.stringify(second.request.body.system)).toBe(JSON.stringify(first.request.body.system));
    expect(JSON.stringify(first.request.body.system)).toContain('- Chapter 12:');
  });
});
