import type { Source } from '../api/types.js';

/**
 * An answer's sources point into the report revision it was given on. When the report has changed since, its
 * quoted words are looked for in the current text: at their offsets, or else the occurrence nearest to them. A
 * short quote is only trusted near its old place, where it is likely the same words and not a chance repeat.
 */

const SHORT_QUOTE = 24;
const NEAR = 2_000;

export interface TextRange {
  start: number;
  end: number;
}

/** Where the source's quote is in `content` (the current revision), or undefined when it is no longer there. */
export function locateQuote(content: string, source: Pick<Source, 'start' | 'end' | 'quote'>): TextRange | undefined {
  const { quote } = source;
  if (quote.trim() === '') return undefined;
  if (content.slice(source.start, source.end) === quote) return { start: source.start, end: source.end };
  let best: number | undefined;
  for (let at = content.indexOf(quote); at !== -1; at = content.indexOf(quote, at + 1)) {
    if (best === undefined || Math.abs(at - source.start) < Math.abs(best - source.start)) best = at;
    else break; // occurrences only move further away from here on
  }
  if (best === undefined) return undefined;
  if (quote.length < SHORT_QUOTE && Math.abs(best - source.start) > NEAR) return undefined;
  return { start: best, end: best + quote.length };
}

export interface Excerpt {
  before: string;
  quote: string;
  after: string;
}

/**
 * The quote with a little of its surroundings in the revision it came from, to show in place of a highlight: up
 * to `radius` characters each side, within its paragraph, cut at a word.
 */
export function excerptAround(content: string, range: TextRange, radius = 160): Excerpt {
  const breakBefore = content.lastIndexOf('\n\n', range.start - 2);
  const breakAfter = content.indexOf('\n\n', range.end);
  const paragraphStart = breakBefore === -1 ? 0 : breakBefore + 2;
  const paragraphEnd = breakAfter === -1 ? content.length : breakAfter;
  let from = Math.max(paragraphStart, range.start - radius);
  let to = Math.min(paragraphEnd, range.end + radius);
  if (from > paragraphStart && !/\s/.test(content[from - 1]!)) {
    const space = content.indexOf(' ', from);
    from = space === -1 || space >= range.start ? range.start : space + 1;
  }
  if (to < paragraphEnd && !/\s/.test(content[to]!)) {
    const space = content.lastIndexOf(' ', to);
    to = space <= range.end ? range.end : space;
  }
  return {
    before: (from > paragraphStart ? '…' : '') + content.slice(from, range.start).trimStart(),
    quote: content.slice(range.start, range.end),
    after: content.slice(range.end, to).trimEnd() + (to < paragraphEnd ? '…' : ''),
  };
}
