import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { splitMarkers } from './citation-markers.js';
import { Markdown } from './Markdown.js';

describe('splitMarkers', () => {
  const known = new Set([1, 2, 12]);

  it('makes a piece of each marker of a known source, in order', () => {
    expect(splitMarkers('Cold starts take 2.1 s [1], mostly in TLS [2][12].', known)).toEqual([
      'Cold starts take 2.1 s ',
      { n: 1 },
      ', mostly in TLS ',
      { n: 2 },
      { n: 12 },
      '.',
    ]);
  });

  it('leaves a marker without a source as text', () => {
    expect(splitMarkers('Invented [3], kept [1]', known)).toEqual(['Invented [3], kept ', { n: 1 }]);
    expect(splitMarkers('no markers at all', known)).toEqual(['no markers at all']);
    expect(splitMarkers('[1]', known)).toEqual([{ n: 1 }]);
  });

  it('takes only a bracketed number: [1a], [ 1], [-1] and [1.5] are text', () => {
    expect(splitMarkers('[1a] [ 1] [-1] [1.5]', known)).toEqual(['[1a] [ 1] [-1] [1.5]']);
  });
});

describe('citation markers in rendered Markdown', () => {
  const render = (text: string, numbers: number[]) =>
    renderToStaticMarkup(
      createElement(Markdown, { text, citations: { numbers: new Set(numbers), render: (n: number) => createElement('cite', { 'data-n': n }, `#${n}`) } }),
    );

  it('renders each known marker with the given component, and nothing else', () => {
    expect(render('Revenue grew [1] and churn fell [4].', [1])).toBe('<p>Revenue grew <cite data-n="1">#1</cite> and churn fell [4].</p>');
  });

  it('keeps markers in code and links as text', () => {
    expect(render('`arr[1]` and [see [1]](https://example.com) but **bold [1]**', [1])).toBe(
      '<p><code>arr[1]</code> and <a href="https://example.com" target="_blank" rel="noopener noreferrer">see [1]</a> but <strong>bold <cite data-n="1">#1</cite></strong></p>',
    );
  });

  it('renders raw HTML buttons as text, so only markers become controls', () => {
    expect(render('<button>x</button> [1]', [1])).toBe('<p>&lt;button&gt;x&lt;/button&gt; <cite data-n="1">#1</cite></p>');
  });
});
