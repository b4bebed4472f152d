import type { LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { AnswerCitations } from './answer-citations.js';
import { verifyCitation } from './citations.js';
import { splitReport } from './passages.js';
import { excerptOf, toReportRange, wholeReport } from './report-excerpt.js';
import type { AnswerEvent, SentReport } from './types.js';

const REPORT = '# Findings\n\n## Cold start\n\nCold start took 1.2 s\non average.\n\n## Costs\n\nHosting  costs fell by a third.\n\nStaff costs rose.';
const all = [{ start: 0, end: REPORT.length }];
const rangeOf = (text: string) => ({ start: REPORT.indexOf(text), end: REPORT.indexOf(text) + text.length });

describe('verifyCitation', () => {
  it('accepts a quote found exactly where it is claimed to be', () => {
    expect(verifyCitation(REPORT, { range: rangeOf('Staff costs rose.'), quote: 'Staff costs rose.', within: all })).toEqual(rangeOf('Staff costs rose.'));
  });

  it('finds a quote whose whitespace differs, at the exact offsets of the report’s own words', () => {
    const found = verifyCitation(REPORT, { range: rangeOf('Cold start took'), quote: ' Cold start took 1.2 s on   average. ', within: all });
    expect(found).toEqual(rangeOf('Cold start took 1.2 s\non average.'));
    const costs = verifyCitation(REPORT, { range: { start: 0, end: 5 }, quote: 'Hosting costs fell', within: all });
    expect(costs).toEqual(rangeOf('Hosting  costs fell'));
  });

  it('rejects a quote that is not in the report, an empty one, and a range outside the report', () => {
    expect(verifyCitation(REPORT, { range: rangeOf('Staff costs rose.'), quote: 'Staff costs fell.', within: all })).toBeUndefined();
    expect(verifyCitation(REPORT, { range: rangeOf('Staff costs rose.'), quote: '  ', within: all })).toBeUndefined();
    expect(verifyCitation(REPORT, { range: undefined, quote: 'Staff costs rose.', within: all })).toBeUndefined();
    expect(verifyCitation(REPORT, { range: { start: REPORT.length - 3, end: REPORT.length + 40 }, quote: 'rose.', within: all })).toBeUndefined();
  });

  it('looks for a misplaced quote only in what the model was given', () => {
    const claim = { range: { start: 0, end: 10 }, quote: 'Staff costs rose.' };
    expect(verifyCitation(REPORT, { ...claim, within: [{ start: 0, end: 40 }] })).toBeUndefined();
    expect(verifyCitation(REPORT, { ...claim, within: [{ start: 0, end: 40 }, rangeOf('Staff costs rose.')] })).toEqual(rangeOf('Staff costs rose.'));
  });
});

describe('excerpts', () => {
  it('maps offsets in a selection back to the report, and refuses offsets in the notes between slices', () => {
    const ranges = [rangeOf('## Cold start'), rangeOf('Staff costs rose.')];
    const excerpt = excerptOf(REPORT, ranges, (from, to) => (to > from ? '\n[…]\n' : ''));
    expect(excerpt.text).toBe('\n[…]\n## Cold start\n[…]\nStaff costs rose.');
    const at = excerpt.text.indexOf('Staff');
    expect(toReportRange(excerpt, at, at + 5)).toEqual({ start: REPORT.indexOf('Staff'), end: REPORT.indexOf('Staff') + 5 });
    expect(toReportRange(excerpt, 0, 3)).toBeUndefined(); // inside a note
    expect(toReportRange(excerpt, at, excerpt.text.length + 1)).toBeUndefined();
    expect(toReportRange(wholeReport(REPORT), 0, REPORT.length)).toEqual({ start: 0, end: REPORT.length });
  });
});

function sent(excerpt = wholeReport(REPORT)): SentReport {
  return { title: 'T', content: REPORT, outline: splitReport(REPORT), excerpt };
}

const textOf = (events: AnswerEvent[]) => events.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('');
const sourcesOf = (events: AnswerEvent[]) => events.flatMap((e) => (e.type === 'source' ? [e.source] : []));

describe('AnswerCitations with labels', () => {
  const labels = () => {
    const report = sent();
    const passages = report.outline.passages;
    return { report, map: new Map(passages.map((p) => [`P${p.id + 1}`, { start: p.start, end: p.end }])) };
  };

  it('renumbers labels split across any delta boundaries, and leaves unknown labels as plain text', () => {
    const answer = 'Costs fell [P2] and rose [P3]; start took 1.2 s [P1][P2]. Not a label: [P] [x] [P99]. Mixed [P3, P42].';
    for (let size = 1; size <= answer.length; size++) {
      const { report, map } = labels();
      const citations = new AnswerCitations(report, 'labels', map);
      const events: AnswerEvent[] = [];
      for (let i = 0; i < answer.length; i += size) events.push(...citations.text(answer.slice(i, i + size)));
      events.push(...citations.end());
      expect(textOf(events)).toBe('Costs fell [1] and rose [2]; start took 1.2 s [3][1]. Not a label: [P] [x] [P99]. Mixed [2][P42].');
      expect(citations.rejected).toBe(2);
      const sources = sourcesOf(events);
      expect(sources.map((s) => [s.n, s.quote, s.heading])).toEqual([
        [1, 'Hosting  costs fell by a third.', 'Costs'],
        [2, 'Staff costs rose.', 'Costs'],
        [3, 'Cold start took 1.2 s\non average.', 'Cold start'],
      ]);
      for (const s of sources) {
        const at = events.findIndex((e) => e.type === 'source' && e.source.n === s.n);
        expect(textOf(events.slice(0, at)).endsWith(`[${s.n}]`) || textOf(events.slice(0, at)).endsWith(`[${s.n}][1]`)).toBe(true);
      }
    }
  });

  it('gives back a label cut off by the end of the stream as the text it was', () => {
    const { report, map } = labels();
    const citations = new AnswerCitations(report, 'labels', map);
    const events = [...citations.text('Cut [P1'), ...citations.end()];
    expect(textOf(events)).toBe('Cut [P1');
  });
});

describe('AnswerCitations with documents', () => {
  const source = (from: number, to: number, citedText: string): Extract<LanguageModelV3StreamPart, { type: 'source' }> => ({
    type: 'source',
    sourceType: 'document',
    id: 's',
    mediaType: 'text/plain',
    title: 'T',
    providerMetadata: { anthropic: { citedText, startCharIndex: from, endCharIndex: to } },
  });

  it('maps a cited range of a selection to the report, puts its marker at the block’s end, and drops what does not verify', () => {
    const excerpt = excerptOf(REPORT, [rangeOf('Cold start took 1.2 s\non average.'), rangeOf('Staff costs rose.')], (f, t) => (t > f ? '\n[…]\n' : ''));
    const citations = new AnswerCitations(sent(excerpt), 'document', new Map());
    const at = (text: string) => excerpt.text.indexOf(text);
    citations.source(source(at('Staff'), at('Staff') + 17, 'Staff costs rose.'));
    citations.source(source(at('Staff'), at('Staff') + 17, 'Staff costs fell.')); // an invented quote
    citations.source(source(at('Cold'), excerpt.text.length + 50, 'Cold start')); // out of range
    const events = [...citations.text('Staff costs went up'), ...citations.blockEnd(), ...citations.text('.'), ...citations.end()];
    expect(textOf(events)).toBe('Staff costs went up[1].');
    expect(sourcesOf(events)).toEqual([{ n: 1, ...rangeOf('Staff costs rose.'), quote: 'Staff costs rose.', heading: 'Costs' }]);
    expect(citations.rejected).toBe(2);
  });
});
