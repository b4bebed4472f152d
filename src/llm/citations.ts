import { headingIdsAt, headingLabel, type ReportOutline } from './passages.js';
import type { Source } from './types.js';

/**
 * Checking what a model cites before anyone sees it. A model's reference is a claimed range of the stored report
 * and the words it says are there; it becomes a Source only if those words are in the report. They are looked
 * for at the claimed place first, then anywhere in what the model was given, exactly and then with any run of
 * whitespace standing for any other (models re-wrap lines), and the Source takes the exact offsets where they
 * were found: its quote is always `report.slice(start, end)`. Everything else is rejected and counted.
 */
export interface CitationClaim {
  /** The claimed range in the stored report; undefined when the model's own offsets fell outside what it was sent. */
  range: { start: number; end: number } | undefined;
  /** The words the model says it cites; when absent, the claimed range's own text. */
  quote: string | undefined;
  /** The report ranges the model was given: a quote found elsewhere would be one it never saw. */
  within: Array<{ start: number; end: number }>;
}

/** Exact report offsets for a claim, or undefined when it cannot be verified. */
export function verifyCitation(report: string, claim: CitationClaim): { start: number; end: number } | undefined {
  const { range } = claim;
  if (range === undefined || range.start < 0 || range.end > report.length || range.end <= range.start) return undefined;
  const quote = (claim.quote ?? report.slice(range.start, range.end)).trim();
  if (quote === '') return undefined;
  const exact = (from: number, to: number) => {
    const i = report.slice(from, to).indexOf(quote);
    return i < 0 ? undefined : { start: from + i, end: from + i + quote.length };
  };
  const loose = looseFinder(report, quote);
  const near = { start: Math.max(0, range.start - quote.length), end: Math.min(report.length, range.end + quote.length) };
  for (const find of [exact, loose]) {
    const found = find(range.start, range.end) ?? find(near.start, near.end) ?? firstWithin(claim.within, find);
    if (found) return found;
  }
  return undefined;
}

function firstWithin(
  ranges: Array<{ start: number; end: number }>,
  find: (from: number, to: number) => { start: number; end: number } | undefined,
): { start: number; end: number } | undefined {
  for (const r of ranges) {
    const found = find(r.start, r.end);
    if (found) return found;
  }
  return undefined;
}

/** A search for `quote` in which any run of whitespace matches any other non-empty run. */
function looseFinder(report: string, quote: string): (from: number, to: number) => { start: number; end: number } | undefined {
  const words = quote.split(/\s+/).filter((w) => w !== '');
  const pattern = new RegExp(words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\s+'), 'u');
  return (from, to) => {
    const match = pattern.exec(report.slice(from, to));
    return match ? { start: from + match.index, end: from + match.index + match[0].length } : undefined;
  };
}

/**
 * Numbers an answer's verified sources in the order they are cited (`[1]`, `[2]`…); citing the same range again
 * reuses its number.
 */
export class SourceNumbering {
  readonly sources: Source[] = [];
  rejected = 0;
  private readonly byRange = new Map<string, Source>();

  constructor(
    private readonly report: string,
    private readonly outline: ReportOutline,
  ) {}

  /** The source for a claim, `fresh` when it got a new number; undefined (and counted) when rejected. */
  cite(claim: CitationClaim): { source: Source; fresh: boolean } | undefined {
    const range = verifyCitation(this.report, claim);
    if (!range) {
      this.rejected++;
      return undefined;
    }
    return this.number(range);
  }

  /** A range already known to be exact (a passage the server itself labelled). */
  number(range: { start: number; end: number }): { source: Source; fresh: boolean } {
    const key = `${range.start}:${range.end}`;
    const known = this.byRange.get(key);
    if (known) return { source: known, fresh: false };
    const source: Source = {
      n: this.sources.length + 1,
      start: range.start,
      end: range.end,
      quote: this.report.slice(range.start, range.end),
      heading: headingLabel(this.outline, headingIdsAt(this.outline, range.start)),
    };
    this.byRange.set(key, source);
    this.sources.push(source);
    return { source, fresh: true };
  }
}
