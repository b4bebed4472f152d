import { describe, expect, it } from 'vitest';
import { excerptAround, locateQuote } from './revision-fallback.js';

const source = (content: string, quote: string) => {
  const start = content.indexOf(quote);
  return { start, end: start + quote.length, quote };
};

const OLD = '## Findings\n\nCold start takes 2.1 s at p50. TLS setup is most of it.\n\n## Next\n\nWarm pools.';

describe('locateQuote', () => {
  it('keeps the offsets when the words there are unchanged', () => {
    const s = source(OLD, 'TLS setup is most of it.');
    expect(locateQuote(`${OLD}\n\nAn appendix.`, s)).toEqual({ start: s.start, end: s.end });
  });

  it('finds the quote moved by an edit before it', () => {
    const s = source(OLD, 'TLS setup is most of it.');
    const edited = OLD.replace('## Findings\n\n', '## Findings\n\nA new first paragraph, added later.\n\n');
    const found = locateQuote(edited, s);
    expect(found && edited.slice(found.start, found.end)).toBe('TLS setup is most of it.');
    expect(found?.start).toBe(s.start + 'A new first paragraph, added later.\n\n'.length);
  });

  it('takes the occurrence nearest to the old offsets', () => {
    const quote = 'the same sentence, written twice in the report.';
    const content = `${quote} Filler.\n\n${'x'.repeat(300)}\n\n${quote}`;
    const second = content.lastIndexOf(quote);
    expect(locateQuote(content, { start: second + 5, end: second + 5 + quote.length, quote })).toEqual({ start: second, end: second + quote.length });
    expect(locateQuote(content, { start: 3, end: 3 + quote.length, quote })).toEqual({ start: 0, end: quote.length });
  });

  it('finds nothing when the words changed', () => {
    expect(locateQuote(OLD.replace('2.1 s', '1.4 s'), source(OLD, 'Cold start takes 2.1 s at p50.'))).toBeUndefined();
  });

  it('trusts a short quote only near its old place', () => {
    const content = `${'y'.repeat(5000)} Warm pools.`;
    expect(locateQuote(content, { start: 10, end: 21, quote: 'Warm pools.' })).toBeUndefined();
    expect(locateQuote(content, { start: 4000, end: 4011, quote: 'Warm pools.' })).toEqual({ start: 5001, end: 5012 });
  });

  it('finds nothing for a blank quote', () => {
    expect(locateQuote('a  b', { start: 1, end: 3, quote: '  ' })).toBeUndefined();
  });
});

describe('excerptAround', () => {
  it('shows the quote within its paragraph, whole when short', () => {
    expect(excerptAround(OLD, source(OLD, 'TLS setup'))).toEqual({
      before: 'Cold start takes 2.1 s at p50. ',
      quote: 'TLS setup',
      after: ' is most of it.',
    });
  });

  it('cuts a long paragraph at words, marking the cuts', () => {
    const words = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');
    const content = `Intro.\n\n${words}\n\nOutro.`;
    const excerpt = excerptAround(content, source(content, 'word40'), 40);
    expect(excerpt.quote).toBe('word40');
    expect(excerpt.before).toMatch(/^…word\d+ /);
    expect(excerpt.after).toMatch(/ word\d+…$/);
    expect(excerpt.before.length).toBeLessThanOrEqual(42);
  });
});
