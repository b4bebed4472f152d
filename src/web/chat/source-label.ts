import type { Source } from '../api/types.js';

/** A source's place in words: its heading path, or where it is when it comes before any heading. */
export const sourcePlace = (source: Pick<Source, 'heading'>): string => source.heading || 'the start of the report';

/** The accessible name of a citation: "Source 2: Findings › Cold start". */
export const citationName = (source: Pick<Source, 'n' | 'heading'>): string => `Source ${source.n}: ${sourcePlace(source)}`;

/** Markdown text without the marks that only style it (strong emphasis, code ticks), to show as plain text. */
export const withoutMarks = (text: string): string => text.replace(/\*\*|__|`+/g, '');

/**
 * A quote short enough for a list under an answer: on one line, without the Markdown marks that only style it
 * (emphasis, code ticks, a heading's #s, a list's bullet), cut at a word with an ellipsis.
 */
export function shortQuote(quote: string, max = 120): string {
  const plain = withoutMarks(quote.replace(/^\s{0,3}(#{1,6}|[-*+]|\d+[.)])\s+/gm, ''))
    .replace(/\s+/g, ' ')
    .trim();
  if (plain.length <= max) return plain;
  const cut = plain.lastIndexOf(' ', max - 1);
  return `${plain.slice(0, cut > max / 2 ? cut : max - 1).trimEnd()}…`;
}

/** The note an answer gets when it was given on another revision of the report than the one on screen. */
export function revisionNote(answerRevision: number | null, shownRevision: number): string | undefined {
  if (answerRevision === null || answerRevision === shownRevision) return undefined;
  return answerRevision < shownRevision
    ? 'Given on an earlier version of the report: its sources are shown where their words still are.'
    : 'Given on a newer version of the report than the one shown: reload the page to see it.';
}
