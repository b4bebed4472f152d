import { describe, expect, it } from 'vitest';
import { buildModelInput } from './context.js';
import { chunkWords } from './local-model.js';
import { createAnswerModel } from './providers.js';
import { streamAnswer } from './stream-answer.js';
import type { AnswerEvent, HistoryMessage, Source } from './types.js';

const REPORT = `# Q3 Operations Report

Summary of the third quarter for the platform team.

## Revenue

Revenue grew 12% quarter over quarter to 4.1 million euros, driven by the enterprise plan.

## Infrastructure

### Hosting costs

Hosting costs fell by a third after the move to reserved instances in July.

### Incidents

Two incidents breached the SLA: a database failover on 3 August and a DNS misconfiguration on 19 September.

## Hiring

The team grew from 14 to 19 engineers.
`;

async function ask(question: string, opts: { history?: HistoryMessage[]; delayMs?: number; signal?: AbortSignal } = {}) {
  const model = createAnswerModel({ provider: 'local', localChunkDelayMs: opts.delayMs ?? 0 });
  const input = buildModelInput({ reportTitle: 'Q3 Operations Report', reportContent: REPORT, history: opts.history ?? [], question, maxTokens: 8_000 });
  const events: AnswerEvent[] = [];
  for await (const event of streamAnswer({ model, input, signal: opts.signal ?? new AbortController().signal })) events.push(event);
  const text = events.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('');
  return { events, text };
}

describe('the local model', () => {
  it('says it is the offline model, then quotes the matching passage under its heading', { timeout: 5_000 }, async () => {
    const { text, events } = await ask('Which incidents breached the SLA?');
    expect(text.split('\n')[0]).toMatch(/report-chat's offline model: no AI model is configured/);
    expect(text).toContain('**Infrastructure › Incidents** [1]\n\n> Two incidents breached the SLA');
    expect(text).not.toContain('> Revenue grew');
    expect(events.at(-1)).toEqual({ type: 'finish', rejectedCitations: 0, inputTokens: expect.any(Number), outputTokens: expect.any(Number) });
  });

  it('cites the passages it quotes as sources with exact offsets into the stored report', { timeout: 5_000 }, async () => {
    const { events, text } = await ask('How much did revenue grow, and what did hosting cost?');
    const sources = events.flatMap((e) => (e.type === 'source' ? [e.source] : []));
    expect(sources).toEqual([
      { n: 1, start: REPORT.indexOf('Hosting costs fell'), end: expect.any(Number), quote: expect.any(String), heading: 'Infrastructure › Hosting costs' },
      { n: 2, start: REPORT.indexOf('Revenue grew'), end: expect.any(Number), quote: expect.any(String), heading: 'Revenue' },
    ]);
    for (const source of sources) {
      expect(source.quote).toBe(REPORT.slice(source.start, source.end));
      expect(source.quote).toMatch(/\.$/); // the whole paragraph
      // Each source comes right after the delta that ends with its marker.
      const at = events.findIndex((e) => e.type === 'source' && e.source.n === source.n);
      const before = events.slice(0, at).flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('');
      expect(before.endsWith(`[${source.n}]`)).toBe(true);
    }
    expect(text.match(/\[\d\]/g)).toEqual(['[1]', '[2]']);
    expect(events.at(-1)).toMatchObject({ type: 'finish', rejectedCitations: 0 });
  });

  it('keeps exact UTF-16 offsets in a report with CRLF line ends, emoji and a long passage', { timeout: 5_000 }, async () => {
    const long = Array.from({ length: 80 }, (_, i) => `Latency 🚀 sample ${i} stayed low.`).join(' ');
    const report = `# Perf 📈\r\n\r\nIntro 😀 text.\r\n\r\n## Cold start\r\n\r\nCold start took 🐢 1.2 s\r\non average.\r\n\r\n## Latency\r\n\r\n${long}\r\n`;
    const model = createAnswerModel({ provider: 'local', localChunkDelayMs: 0 });
    for (const question of ['How long did the cold start take?', 'What about latency samples?']) {
      const input = buildModelInput({ reportTitle: 'Perf', reportContent: report, history: [], question, maxTokens: 8_000 });
      const sources: Source[] = [];
      for await (const e of streamAnswer({ model, input, signal: new AbortController().signal })) if (e.type === 'source') sources.push(e.source);
      expect(sources.length).toBeGreaterThan(0);
      for (const source of sources) expect(source.quote).toBe(report.slice(source.start, source.end));
      expect(sources[0]!.heading).toBe(question.includes('cold') ? 'Cold start' : 'Latency');
    }
  });

  it('finds passages despite plurals and small typos', { timeout: 5_000 }, async () => {
    expect((await ask('what about the hosting cost?')).text).toContain('> Hosting costs fell by a third');
    expect((await ask('how many enginers were hired?')).text).toContain('> The team grew from 14 to 19 engineers.');
  });

  it('says plainly when nothing matches and suggests the report’s sections', { timeout: 5_000 }, async () => {
    const { text } = await ask('What is the capital of France?');
    expect(text).toMatch(/could not find anything in the report that matches your question/);
    expect(text).toContain('- Revenue\n- Infrastructure\n- Hosting costs\n- Incidents\n- Hiring');
    expect(text).not.toContain('>');
  });

  it('does not answer an unrelated question from an earlier topic, but follows a bare follow-up', { timeout: 5_000 }, async () => {
    const history: HistoryMessage[] = [
      { role: 'user', content: 'How did hosting costs change?' },
      { role: 'assistant', content: 'They fell by a third.' },
    ];
    expect((await ask('What is the capital of France?', { history })).text).toMatch(/could not find anything/);
    const followUp = await ask('and why did they fall?', { history });
    expect(followUp.text).toMatch(/going by the conversation so far/);
    expect(followUp.text).toContain('> Hosting costs fell by a third');
  });

  it('gives the same answer, in the same chunks, for the same input', { timeout: 5_000 }, async () => {
    const a = await ask('How much did revenue grow, and what did hosting cost?');
    const b = await ask('How much did revenue grow, and what did hosting cost?');
    expect(a.events).toEqual(b.events);
  });

  it('quotes one passage per part of a two-part question', { timeout: 5_000 }, async () => {
    const { text } = await ask('How much did revenue grow, and what did hosting cost?');
    expect(text).toContain('**Revenue** [2]\n\n> Revenue grew 12%');
    expect(text).toContain('**Infrastructure › Hosting costs** [1]\n\n> Hosting costs fell by a third');
  });

  it('streams a few words per chunk, paced by the configured delay', { timeout: 5_000 }, async () => {
    const started = performance.now();
    const { events } = await ask('Which incidents breached the SLA?', { delayMs: 2 });
    const deltas = events.filter((e) => e.type === 'delta');
    expect(deltas.length).toBeGreaterThan(10);
    for (const d of deltas) expect(d.text.trim().split(/\s+/).length).toBeLessThanOrEqual(3);
    expect(performance.now() - started).toBeGreaterThanOrEqual((deltas.length - 1) * 2 - 5);
  });

  it('stops promptly on abort, without a terminal event', { timeout: 5_000 }, async () => {
    const controller = new AbortController();
    const model = createAnswerModel({ provider: 'local', localChunkDelayMs: 10_000 });
    const input = buildModelInput({ reportTitle: 'R', reportContent: REPORT, history: [], question: 'revenue?', maxTokens: 8_000 });
    const events: AnswerEvent[] = [];
    let abortedAt = 0;
    for await (const event of streamAnswer({ model, input, signal: controller.signal })) {
      events.push(event);
      abortedAt = performance.now();
      controller.abort(); // the next chunk is 10 s away: only the abort can end this quickly
    }
    expect(performance.now() - abortedAt).toBeLessThan(500);
    expect(events).toHaveLength(1);
    expect(events[0]!.type).toBe('delta');
  });

  it('handles an empty report', { timeout: 5_000 }, async () => {
    const model = createAnswerModel({ provider: 'local', localChunkDelayMs: 0 });
    const input = buildModelInput({ reportTitle: '', reportContent: '', history: [], question: 'anything?', maxTokens: 8_000 });
    let text = '';
    for await (const e of streamAnswer({ model, input, signal: new AbortController().signal })) if (e.type === 'delta') text += e.text;
    expect(text).toMatch(/The report is empty/);
  });
});

describe('chunkWords', () => {
  it('splits into word groups that join back to exactly the input', () => {
    for (const text of ['', '  lead', 'one two three four five', 'a\n\n> b  c\t d\n', '**x** — y']) {
      const chunks = chunkWords(text, 3);
      expect(chunks.join('')).toBe(text);
      expect(chunks.every((c) => c !== '')).toBe(true);
    }
  });
});
