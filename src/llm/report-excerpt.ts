/**
 * What of the report a model is given, as one text made of verbatim slices of the stored report (and, between
 * slices that are not adjacent, a short note of what was left out). Each piece records where its slice sits in
 * both texts, so an offset a model cites in the text maps back to the stored report.
 */
export interface ExcerptPiece {
  /** Where the slice starts in `text`. */
  at: number;
  /** The slice's range in the stored report: `text.slice(at, at + end - start) === report.slice(start, end)`. */
  start: number;
  end: number;
}

export interface ReportExcerpt {
  text: string;
  /** In order of `at`, and of `start`. */
  pieces: ExcerptPiece[];
}

export function wholeReport(report: string): ReportExcerpt {
  return { text: report, pieces: report === '' ? [] : [{ at: 0, start: 0, end: report.length }] };
}

/** Joins report ranges (sorted by start) into one excerpt; `gap(from, to)` says what was left out between two. */
export function excerptOf(report: string, ranges: Array<{ start: number; end: number }>, gap: (from: number, to: number) => string): ReportExcerpt {
  const parts: string[] = [];
  const pieces: ExcerptPiece[] = [];
  let at = 0;
  let last = 0;
  for (const { start, end } of ranges) {
    if (end <= start) continue;
    const previous = pieces[pieces.length - 1];
    if (previous && (start <= previous.end || report.slice(previous.end, start).trim() === '')) {
      // Ranges apart by nothing but whitespace become one piece: the text stays exactly the report's.
      if (end <= previous.end) continue;
      parts.push(report.slice(previous.end, end));
      at += end - previous.end;
      previous.end = end;
      last = end;
      continue;
    }
    const note = gap(last, start);
    parts.push(note);
    at += note.length;
    pieces.push({ at, start, end });
    parts.push(report.slice(start, end));
    at += end - start;
    last = end;
  }
  const tail = gap(last, report.length);
  parts.push(tail);
  return { text: parts.join(''), pieces };
}

/**
 * The report range for `[from, to)` of the excerpt's text, when both ends fall inside verbatim slices (`to` may
 * be a slice's end); undefined when either end is outside the text or in a note between slices.
 */
export function toReportRange(excerpt: ReportExcerpt, from: number, to: number): { start: number; end: number } | undefined {
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to <= from || to > excerpt.text.length) return undefined;
  const first = pieceHolding(excerpt.pieces, from, false);
  const last = pieceHolding(excerpt.pieces, to, true);
  if (!first || !last) return undefined;
  return { start: first.start + (from - first.at), end: last.start + (to - last.at) };
}

function pieceHolding(pieces: ExcerptPiece[], offset: number, isEnd: boolean): ExcerptPiece | undefined {
  let lo = 0;
  let hi = pieces.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const piece = pieces[mid]!;
    const length = piece.end - piece.start;
    if (isEnd ? offset <= piece.at : offset < piece.at) hi = mid - 1;
    else if (isEnd ? offset > piece.at + length : offset >= piece.at + length) lo = mid + 1;
    else return piece;
  }
  return undefined;
}
