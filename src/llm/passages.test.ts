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
