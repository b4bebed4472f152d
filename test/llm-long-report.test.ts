import { describe, expect, it } from 'vitest';
import { buildModelInput, createAnswerModel, streamAnswer, type AnswerEvent } from '../src/llm/index.js';
import { documentsOf, startFakeAnthropic } from './fakes/fake-anthropic-server.js';
import { LAST_SECTION_FACT, LAST_SECTION_HEADING, longReport } from './fakes/long-report.js';
import { useFakeProvider } from './support/fake-provider.js';

const REPORT = longReport(2 * 1024 * 1024);
const QUESTION = 'How often is the vault door code rotated?';
const FACT_START = REPORT.lastIndexOf(LAST_SECTION_FACT);

const input = () =>
  buildModelInput({
    reportTitle: 'Operations review',
    reportContent: REPORT,
    history: [
      { role: 'user', content: 'What does the review cover?' },
      { role: 'assistant', content: 'The year, chapter by chapter.' },
    ],
    question: QUESTION,
    maxTokens: 100_000,
  });

async function ask(model: ReturnType<typeof createAnswerModel>) {
  const events: AnswerEvent[] = [];
  for await (const event of streamAnswer({ model, input: input(), signal: new AbortController().signal })) events.push(event);
  return { sources: events.flatMap((e) => (e.type === 'source' ? [e.source] : [])), finish: events.at(-1) };
}

describe('a 2 MiB report, asked about its last section', () => {
  it('sends a bounded selection that holds the last section, and says what it sent', { timeout: 30_000 }, () => {
    expect(REPORT.length).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    const { report, context, messages } = input();
    expect(report.excerpt.text).toContain(`## ${LAST_SECTION_HEADING}\n\n${LAST_SECTION_FACT}`);
    expect(report.excerpt.text.length).toBeLessThan(400_000);
    expect(context.passages).toBeLessThan(context.totalPassages);
    expect(context).toMatchObject({ reportChars: REPORT.length, historyTurns: 1 });
    expect(messages.at(-1)).toEqual({ role: 'user', content: expect.stringContaining(`\n${QUESTION}\n</message>`) });
  });

  it('gets a source in that section from the local model', { timeout: 30_000 }, async () => {
    const { sources, finish } = await ask(createAnswerModel({ provider: 'local', localChunkDelayMs: 0 }));
    expect(sources[0]).toEqual({ n: 1, start: FACT_START, end: FACT_START + LAST_SECTION_FACT.length, quote: LAST_SECTION_FACT, heading: LAST_SECTION_HEADING });
    expect(finish).toMatchObject({ type: 'finish', rejectedCitations: 0 });
  });

  describe('from Anthropic', () => {
    const fake = useFakeProvider(startFakeAnthropic);

    it('maps a citation of the selection back to the last section', { timeout: 30_000 }, async () => {
      fake().setBehavior({
        answer: (request) => {
          const text = documentsOf(request)[0]!.text;
          const at = text.indexOf(LAST_SECTION_FACT);
          return [{ text: 'Every 41 days', cites: [{ start: at, end: at + LAST_SECTION_FACT.length, citedText: LAST_SECTION_FACT }] }, { text: '.' }];
        },
      });
      const { sources, finish } = await ask(createAnswerModel({ provider: 'anthropic', baseUrl: fake().baseUrl, apiKey: 'k', localChunkDelayMs: 0 }));
      expect(sources).toEqual([{ n: 1, start: FACT_START, end: FACT_START + LAST_SECTION_FACT.length, quote: LAST_SECTION_FACT, heading: LAST_SECTION_HEADING }]);
      expect(finish).toMatchObject({ type: 'finish', rejectedCitations: 0 });
      const sent = JSON.stringify(fake().requests.at(-1)!.body).length;
      expect(sent).toBeLessThan(REPORT.length / 3);
    });
  });
});
