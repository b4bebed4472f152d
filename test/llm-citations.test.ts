import { describe, expect, it } from 'vitest';
import { buildModelInput, createAnswerModel, streamAnswer, type AnswerEvent, type Source } from '../src/llm/index.js';
import { documentsOf, startFakeAnthropic } from './fakes/fake-anthropic-server.js';
import type { RecordedRequest } from './fakes/fake-behavior.js';
import { startFakeOpenAI } from './fakes/fake-openai-server.js';
import { useFakeProvider } from './support/fake-provider.js';

const REPORT = [
  '# Platform review',
  '',
  '## Findings',
  '',
  '### Cold start',
  '',
  'Cold start took 1.2 s on average\nacross all regions.',
  '',
  '### Costs',
  '',
  'Hosting costs fell by a third after the move.',
  '',
  '## Hiring',
  '',
  'The team grew from 14 to 19 engineers.',
].join('\n');

const input = (question = 'How long did the cold start take?') =>
  buildModelInput({ reportTitle: 'Platform review', reportContent: REPORT, history: [], question, maxTokens: 10_000 });

async function answer(model: ReturnType<typeof createAnswerModel>, question?: string) {
  const events: AnswerEvent[] = [];
  for await (const event of streamAnswer({ model, input: input(question), signal: new AbortController().signal })) events.push(event);
  const text = events.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('');
  const sources = events.flatMap((e) => (e.type === 'source' ? [e.source] : []));
  const finish = events.find((e) => e.type === 'finish');
  return { events, text, sources, finish };
}

/** Every source is an exact slice of the stored report, and follows the delta that completes its marker. */
function expectVerified(events: AnswerEvent[], sources: Source[]) {
  for (const source of sources) {
    expect(source.quote).toBe(REPORT.slice(source.start, source.end));
    const at = events.findIndex((e) => e.type === 'source' && e.source === source);
    const before = events.slice(0, at).flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('');
    expect(before).toContain(`[${source.n}]`);
  }
}

describe('anthropic: the report as a cited document', () => {
  const fake = useFakeProvider(startFakeAnthropic);
  const model = () => createAnswerModel({ provider: 'anthropic', baseUrl: fake().baseUrl, apiKey: 'k', localChunkDelayMs: 0 });
  const docText = (r: RecordedRequest) => documentsOf(r)[0]!.text;
  const at = (r: RecordedRequest, words: string) => docText(r).indexOf(words);

  it('sends the report as a text document with citations on, and nothing else of it in the prompt', { timeout: 10_000 }, async () => {
    fake().setBehavior({});
    await answer(model());
    const request = fake().requests.at(-1)!;
    const [document, ...others] = documentsOf(request);
    expect(others).toEqual([]);
    expect(document!.text).toBe(REPORT);
    expect(document!.block).toMatchObject({ type: 'document', title: 'Platform review', citations: { enabled: true } });
    expect(JSON.stringify(request.body.system)).not.toContain('Cold start took');
  });

  it('turns verified char_location citations into sources and drops invented or out-of-range ones', { timeout: 10_000 }, async () => {
    fake().setBehavior({
      answer: (r) => {
        const cold = at(r, 'Cold start took');
        const costs = at(r, 'Hosting costs');
        return [
          { text: 'Cold starts took 1.2 s', cites: [{ start: cold, end: cold + 52, citedText: 'Cold start took 1.2 s on average\nacross all regions.' }] },
          // The same words with the line re-wrapped: found, and given the report's exact offsets.
          { text: ' in every region', cites: [{ start: cold, end: cold + 52, citedText: 'Cold start took 1.2 s on average across  all regions.' }] },
          // An invented quote at a real place.
          { text: ', and costs doubled', cites: [{ start: costs, end: costs + 20, citedText: 'Hosting costs doubled' }] },
          // A real quote at offsets beyond the document.
          { text: ' while the team grew', cites: [{ start: REPORT.length + 10, end: REPORT.length + 40, citedText: 'The team grew' }] },
          { text: ', and costs fell by a third', cites: [{ start: costs, end: costs + 45, citedText: 'Hosting costs fell by a third after the move.' }] },
          { text: '.' },
        ];
      },
    });
    const { events, text, sources, finish } = await answer(model());
    expect(text).toBe('Cold starts took 1.2 s[1] in every region[1], and costs doubled while the team grew, and costs fell by a third[2].');
    expect(sources).toEqual([
      { n: 1, start: REPORT.indexOf('Cold start took'), end: REPORT.indexOf('regions.') + 8, quote: 'Cold start took 1.2 s on average\nacross all regions.', heading: 'Findings › Cold start' },
      { n: 2, start: REPORT.indexOf('Hosting'), end: REPORT.indexOf('move.') + 5, quote: 'Hosting costs fell by a third after the move.', heading: 'Findings › Costs' },
    ]);
    expectVerified(events, sources);
    expect(finish).toMatchObject({ type: 'finish', rejectedCitations: 2 });
  });
});

describe('openai-compatible: labelled passages', () => {
  const fake = useFakeProvider(startFakeOpenAI);
  const model = () => createAnswerModel({ provider: 'openai-compatible', baseUrl: fake().baseUrl, model: 'm', localChunkDelayMs: 0 });

  it('labels each passage in the prompt and asks for labels', { timeout: 10_000 }, async () => {
    fake().setBehavior({});
    await answer(model());
    const system = fake().requests.at(-1)!.body.messages[0].content as string;
    expect(system).toContain('### Cold start\n\n[P1] Cold start took 1.2 s');
    expect(system).toContain('[P3] The team grew');
    expect(system).toMatch(/cite its passage by that label/);
  });

  it('renumbers labels split across chunks and leaves a label that does not exist as plain text', { timeout: 10_000 }, async () => {
    fake().setBehavior({ chunks: ['It took 1.2 s [', 'P1]; costs fell [P', '2', '] and the team grew [P9', '9]. Again [P1].'] });
    const { events, text, sources, finish } = await answer(model());
    expect(text).toBe('It took 1.2 s [1]; costs fell [2] and the team grew [P99]. Again [1].');
    expect(sources.map((s) => [s.n, s.quote, s.heading])).toEqual([
      [1, 'Cold start took 1.2 s on average\nacross all regions.', 'Findings › Cold start'],
      [2, 'Hosting costs fell by a third after the move.', 'Findings › Costs'],
    ]);
    expectVerified(events, sources);
    expect(finish).toMatchObject({ type: 'finish', rejectedCitations: 1 });
  });
});

describe('local: the passages it quotes', () => {
  it('streams verified sources whose quotes are the stored report’s words', { timeout: 10_000 }, async () => {
    const { events, text, sources, finish } = await answer(createAnswerModel({ provider: 'local', localChunkDelayMs: 0 }));
    expect(sources).toEqual([
      { n: 1, start: REPORT.indexOf('Cold start took'), end: REPORT.indexOf('regions.') + 8, quote: expect.any(String), heading: 'Findings › Cold start' },
    ]);
    expect(text).toContain('**Findings › Cold start** [1]');
    expectVerified(events, sources);
    expect(finish).toMatchObject({ rejectedCitations: 0 });
  });
});
