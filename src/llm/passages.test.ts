import { describe, expect, it } from 'vitest';
import { splitReport } from './passages.js';

describe('splitReport', () => {
  it('splits by heading sections, then paragraphs, keeping each passage’s heading path', () => {
    const { passages, headings } = splitReport(
      'Preface.\n\n# Title\n\nIntro one.\nstill intro.\n\n## Costs\n\nHosting fell.\n\n- a\n- b\n\n### Detail\n\nDeep.\n\n## Hiring ##\n\nFive people.',
    );
    expect(passages.map((p) => [p.headingPath.join(' / '), p.text])).toEqual([
      ['', 'Preface.'],
      ['Title', 'Intro one.\nstill intro.'],
      ['Title / Costs', 'Hosting fell.'],
      ['Title / Costs', '- a\n- b'],
      ['Title / Costs / Detail', 'Deep.'],
      ['Title / Hiring', 'Five people.'],
    ]);
    expect(headings.map((h) => `${h.level}:${h.text}`)).toEqual(['1:Title', '2:Costs', '3:Detail', '2:Hiring']);
  });

  it('keeps a fenced code block whole and ignores # inside it', () => {
    const { passages } = splitReport('# A\n\n```sh\n# not a heading\n\necho hi\n```\n\nAfter.');
    expect(passages.map((p) => p.text)).toEqual(['```sh\n# not a heading\n\necho hi\n```', 'After.']);
    expect(passages.every((p) => p.headingPath.join() === 'A')).toBe(true);
  });

  it('reads setext headings and skips horizontal rules', () => {
    const { passages } = splitReport('Main\n====\n\nText.\n\n---\n\nSub\n---\nMore.');
    expect(passages.map((p) => [p.headingPath.join(' / '), p.text])).toEqual([
      ['Main', 'Text.'],
      ['Main / Sub', 'More.'],
    ]);
  });
});

describe('splitReport offsets', () => {
  it('gives every passage and heading its exact range, whatever the line ends', () => {
    const markdown = '# Title 😀\r\n\r\nFirst line\r\nsecond line.  \r\n\r\nSub\r\n---\r\n\r\n  Indented 🚀 text.\n\n```\ncode\r\n\r\nmore\n```\r';
    const { passages, headings } = splitReport(markdown);
    for (const p of passages) expect(markdown.slice(p.start, p.end)).toBe(p.text);
    expect(passages.map((p) => p.text)).toEqual(['First line\r\nsecond line.', 'Indented 🚀 text.', '```\ncode\r\n\r\nmore\n```']);
    expect(headings.map((h) => markdown.slice(h.start, h.end))).toEqual(['# Title 😀', 'Sub\r\n---']);
    expect(headings.map((h) => h.path)).toEqual([[0], [0, 1]]);
    expect(passages.map((p) => p.headingIds)).toEqual([[0], [0, 1], [0, 1]]);
  });

  it('names the heading path in force at an offset, leaving out a sole top-level title', async () => {
    const { headingIdsAt, headingLabel } = await import('./passages.js');
    const markdown = 'Preface.\n\n# Report\n\n## Findings\n\n### Cold start\n\nSlow.\n\n## Costs\n\nLow.';
    const outline = splitReport(markdown);
    const at = (text: string) => headingLabel(outline, headingIdsAt(outline, markdown.indexOf(text)));
    expect([at('Preface'), at('Slow.'), at('Low.'), at('### Cold')]).toEqual(['', 'Findings › Cold start', 'Costs', 'Findings › Cold start']);
  });
});
