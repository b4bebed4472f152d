import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { Markdown } from '../markdown/Markdown.js';
import { findRenderedRange, renderedOffset, type Segment } from './passage-map.js';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#x27': "'", '#39': "'" };
const decode = (html: string) => html.replace(/&(amp|lt|gt|quot|#x27|#39);/g, (_, name: string) => ENTITIES[name]!);

/** The segments of a report as the page renders it: the spans of markdown/source-offsets.ts, sorted by start. */
function renderSegments(source: string): Segment[] {
  const html = renderToStaticMarkup(createElement(Markdown, { text: source, headingIds: true, sourceOffsets: true }));
  return [...html.matchAll(/<span data-offsets="(\d+):(\d+)">([^<]*)<\/span>/g)]
    .map((m) => ({ start: Number(m[1]), end: Number(m[2]), text: decode(m[3]!) }))
    .sort((a, b) => a.start - b.start);
}

/** The rendered text that a source range covers (what a DOM Range over those texts would read). */
function renderedText(source: string, quote: string, from = 0): string | undefined {
  const start = source.indexOf(quote, from);
  expect(start, `"${quote}" is in the source`).toBeGreaterThanOrEqual(0);
  const segments = renderSegments(source);
  const range = findRenderedRange(source, segments, start, start + quote.length);
  if (!range) return undefined;
  const parts: string[] = [];
  for (let i = range.from.index; i <= range.to.index; i++) {
    const text = segments[i]!.text;
    parts.push(text.slice(i === range.from.index ? range.from.offset : 0, i === range.to.index ? range.to.offset : text.length));
  }
  return parts.join('');
}

const REPORT = [
  '# Latency review',
  '',
  '## Findings',
  '',
  '### Cold start',
  '',
  'Cold start takes **2.1 s** at p50 and [4.8 s](https://example.com/p99) at p99; TLS setup is most of it.',
  '',
  '> Users notice a delay over 1 s,',
  '> and abandon after 3 s.',
  '',
  '- Warm pools cut it to 0.4 s',
  '- Costs rise by 12 \\* 3 units &amp; more',
  '',
  '| Region | p50 |',
  '| --- | --- |',
  '| eu-west | 1.9 s |',
  '',
  'Ünïcödé 🙂 text after an emoji stays aligned.',
].join('\n');

describe('findRenderedRange on a rendered report', () => {
  it('maps a plain sentence exactly', () => {
    expect(renderedText(REPORT, 'TLS setup is most of it.')).toBe('TLS setup is most of it.');
  });

  it('skips inline markup: emphasis and a link with its URL', () => {
    expect(renderedText(REPORT, 'Cold start takes **2.1 s** at p50 and [4.8 s](https://example.com/p99) at p99')).toBe(
      'Cold start takes 2.1 s at p50 and 4.8 s at p99',
    );
  });

  it('starts and ends inside markup at the nearest rendered text', () => {
    expect(renderedText(REPORT, '**2.1 s**')).toBe('2.1 s');
    expect(renderedText(REPORT, '2.1 s** at')).toBe('2.1 s at');
  });

  it('drops a blockquote prefix inside a continued line', () => {
    expect(renderedText(REPORT, 'delay over 1 s,\n> and abandon')).toBe('delay over 1 s,\nand abandon');
  });

  it('follows escapes and entities', () => {
    expect(renderedText(REPORT, 'by 12 \\* 3 units &amp; more')).toBe('by 12 * 3 units & more');
    expect(renderedText(REPORT, 'units &amp; more')).toBe('units & more');
  });

  it('spans list items and table cells', () => {
    expect(renderedText(REPORT, 'Warm pools cut it to 0.4 s\n- Costs rise')).toBe('Warm pools cut it to 0.4 sCosts rise');
    expect(renderedText(REPORT, 'eu-west | 1.9 s')).toBe('eu-west1.9 s');
  });

  it('counts in UTF-16 code units, as the offsets do', () => {
    expect(renderedText(REPORT, '🙂 text after')).toBe('🙂 text after');
  });

  it('finds nothing for a range that is all markup or empty', () => {
    expect(renderedText(REPORT, '| --- | --- |')).toBeUndefined();
    const segments = renderSegments(REPORT);
    expect(findRenderedRange(REPORT, segments, 10, 10)).toBeUndefined();
  });

  it('maps a heading without its #s', () => {
    expect(renderedText(REPORT, '### Cold start')).toBe('Cold start');
  });
});

describe('renderedOffset', () => {
  it('is the offset itself when the text is the source slice', () => {
    expect(renderedOffset('abcdef', { start: 1, end: 5, text: 'bcde' }, 3)).toBe(2);
  });

  it('clamps to the segment', () => {
    const seg = { start: 2, end: 4, text: 'cd' };
    expect(renderedOffset('abcdef', seg, 0)).toBe(0);
    expect(renderedOffset('abcdef', seg, 6)).toBe(2);
  });

  it('takes an entity written differently as one character', () => {
    // "&#123;" renders as "{": offsets after it land after the brace.
    const source = 'a &#123; b';
    expect(renderedOffset(source, { start: 0, end: source.length, text: 'a { b' }, source.indexOf(' b'))).toBe(3);
  });
});
