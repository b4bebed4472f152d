/**
 * Where a range of a report's Markdown source is in its rendered text. The rendered page is made of texts, each
 * knowing the source range it came from (markdown/source-offsets.ts): a segment. Its text is usually the source
 * slice itself; it differs where Markdown wrote a character differently (`\*`, `&amp;`) or a container's prefix
 * sits inside it (a blockquote's `> `, a list item's indentation on a continued line). Markup between texts
 * (`**`, `](url)`, `#`) belongs to no segment.
 */

export interface Segment {
  /** The source range, UTF-16 offsets. */
  start: number;
  end: number;
  /** The text as rendered. */
  text: string;
}

/** A position in the rendered text: the segment (its index) and an offset in its text. */
export interface RenderedPoint {
  index: number;
  offset: number;
}

/** How far a rendered character is looked for ahead in the source before it is taken for a rewritten one. */
const LOOKAHEAD = 16;

/** The offset in `segment.text` of the source offset `at`; markup falls on the next rendered character. */
export function renderedOffset(source: string, segment: Segment, at: number): number {
  if (at <= segment.start) return 0;
  if (at >= segment.end) return segment.text.length;
  const raw = source.slice(segment.start, segment.end);
  const within = at - segment.start;
  if (raw === segment.text) return within;
  const found = raw.indexOf(segment.text);
  if (found >= 0) return Math.min(Math.max(within - found, 0), segment.text.length);
  // Walk both: a source character the text lacks (a prefix, an escape) is skipped; one written differently (an
  // entity) is taken as one character of the text.
  let i = 0;
  let j = 0;
  while (i < within && j < segment.text.length) {
    if (raw[i] === segment.text[j]) {
      i++;
      j++;
      continue;
    }
    const next = raw.indexOf(segment.text[j]!, i);
    if (next !== -1 && next - i <= LOOKAHEAD) {
      i = next;
    } else {
      i++;
      j++;
    }
  }
  return j;
}

/**
 * The rendered range of the source range [start, end), from the segments sorted by `start` (as the source is:
 * they never overlap). Undefined when no rendered text lies in the range (it is all markup).
 */
export function findRenderedRange(source: string, segments: readonly Segment[], start: number, end: number): { from: RenderedPoint; to: RenderedPoint } | undefined {
  if (end <= start) return undefined;
  const first = firstIndex(segments, (s) => s.end > start);
  const afterLast = firstIndex(segments, (s) => s.start >= end);
  if (first >= afterLast) return undefined;
  const last = afterLast - 1;
  const from = { index: first, offset: renderedOffset(source, segments[first]!, start) };
  const to = { index: last, offset: renderedOffset(source, segments[last]!, end) };
  if (first === last && to.offset <= from.offset) return undefined;
  return { from, to };
}

/** The first index where `past` holds (it holds from some index on), or the length. */
function firstIndex<T>(items: readonly T[], past: (item: T) => boolean): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (past(items[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
