import { describe, expect, it } from 'vitest';
import { citationName, revisionNote, shortQuote } from './source-label.js';

describe('source labels', () => {
  it('names a citation by number and heading path', () => {
    expect(citationName({ n: 2, heading: 'Findings › Cold start' })).toBe('Source 2: Findings › Cold start');
    expect(citationName({ n: 1, heading: '' })).toBe('Source 1: the start of the report');
  });

  it('shortens a quote to one line without styling marks, cut at a word', () => {
    expect(shortQuote('## Cold start\n\nIt takes **2.1 s** at `p50`.')).toBe('Cold start It takes 2.1 s at p50.');
    expect(shortQuote('- first item\n- second item')).toBe('first item second item');
    const long = shortQuote('word '.repeat(60), 40);
    expect(long.length).toBeLessThanOrEqual(40);
    expect(long).toMatch(/^word( word)*…$/);
  });

  it('says when an answer was given on another revision', () => {
    expect(revisionNote(null, 3)).toBeUndefined();
    expect(revisionNote(3, 3)).toBeUndefined();
    expect(revisionNote(2, 3)).toMatch(/earlier version/);
    expect(revisionNote(4, 3)).toMatch(/newer version/);
  });
});
