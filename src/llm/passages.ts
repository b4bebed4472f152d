/**
 * A quotable piece of the report: one paragraph (or list, table, code block) and the headings above it.
 * `text === markdown.slice(start, end)`: offsets are UTF-16 offsets into the string that was split.
 */
export interface Passage {
  id: number;
  headingPath: string[];
  /** Indexes into `ReportOutline.headings` of the same path, outermost first. */
  headingIds: number[];
  text: string;
  start: number;
  end: number;
}

export interface Heading {
  level: number;
  text: string;
  /** The heading's own line(s) in the markdown (both lines of a setext heading), without the line break. */
  start: number;
  end: number;
  /** Indexes into `ReportOutline.headings` of this heading's path, itself last. */
  path: number[];
}

export interface ReportOutline {
  passages: Passage[];
  /** Every heading in document order, with its level (1 for `#`). */
  headings: Heading[];
}

const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
const THEMATIC_BREAK = /^ {0,3}([-*_])([ \t]*\1){2,}[ \t]*$/;
const FENCE = /^ {0,3}(```|~~~)/;
const LINE = /[^\r\n]*(?:\r\n|\r|\n|$)/g;

interface Line {
  text: string;
  start: number;
  end: number;
}

/**
 * Splits Markdown into passages by heading sections, then by blank-line paragraphs. A fenced code block stays
 * whole (its blank lines do not split it) and a `#` inside it is not a heading. Lines are read in place (any of
 * `\n`, `\r\n`, `\r` ends one) so that every passage keeps its exact offsets.
 */
export function splitReport(markdown: string): ReportOutline {
  const passages: Passage[] = [];
  const headings: Heading[] = [];
  const path: number[] = [];
  let paragraph: Line[] = [];
  let fence: string | undefined;

  const flush = () => {
    const lines = paragraph;
    paragraph = [];
    if (lines.length === 0) return;
    let start = lines[0]!.start;
    let end = lines[lines.length - 1]!.end;
    while (start < end && /\s/.test(markdown[start]!)) start++;
    while (end > start && /\s/.test(markdown[end - 1]!)) end--;
    if (start === end) return;
    passages.push({
      id: passages.length,
      headingPath: path.map((i) => headings[i]!.text),
      headingIds: [...path],
      text: markdown.slice(start, end),
      start,
      end,
    });
  };

  for (const line of lines(markdown)) {
    const fenceMatch = FENCE.exec(line.text);
    if (fence !== undefined) {
      paragraph.push(line);
      if (fenceMatch && fenceMatch[1] === fence) fence = undefined;
      continue;
    }
    if (fenceMatch) {
      fence = fenceMatch[1];
      paragraph.push(line);
      continue;
    }
    const atx = HEADING.exec(line.text);
    const setext = paragraph.length === 1 ? SETEXT_UNDERLINE.exec(line.text) : null;
    if (atx || setext) {
      const level = atx ? atx[1]!.length : setext![1]!.startsWith('=') ? 1 : 2;
      const text = stripInlineMarkdown(atx ? atx[2]! : paragraph[0]!.text);
      const start = atx ? line.start : paragraph[0]!.start;
      if (atx) flush();
      else paragraph = []; // a setext heading's text line was held as a paragraph
      while (path.length > 0 && headings[path[path.length - 1]!]!.level >= level) path.pop();
      if (text !== '') {
        path.push(headings.length);
        headings.push({ level, text, start, end: line.start + line.text.length, path: [...path] });
      }
      continue;
    }
    // A horizontal rule separates like a blank line; it is not worth quoting.
    if (line.text.trim() === '' || (paragraph.length === 0 && THEMATIC_BREAK.exec(line.text))) flush();
    else paragraph.push(line);
  }
  flush();
  return { passages, headings };
}

/** The lines of `text` with their offsets; `end` includes the line break, `text` does not. */
function* lines(text: string): Generator<Line> {
  LINE.lastIndex = 0;
  for (let match = LINE.exec(text); match !== null && match.index < text.length; match = LINE.exec(text)) {
    const raw = match[0];
    yield { text: raw.replace(/\r?\n$|\r$/, ''), start: match.index, end: match.index + raw.length };
    if (raw === '') break;
  }
}

/** Heading text as a person reads it: `**Q3** [revenue](#rev)` becomes `Q3 revenue`. */
function stripInlineMarkdown(text: string): string {
  return text
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[*_`]/g, '')
    .trim();
}

/**
 * The report's title heading, when exactly one heading sits at the top level and others below it: repeating it
 * before every section is noise, so heading paths shown to people leave it out.
 */
export function soleTopHeading(outline: ReportOutline): number | undefined {
  const minLevel = Math.min(...outline.headings.map((h) => h.level));
  const top = outline.headings.flatMap((h, i) => (h.level === minLevel ? [i] : []));
  return top.length === 1 && outline.headings.length > 1 ? top[0] : undefined;
}

/** A heading path as people read it (`Findings › Cold start`), '' before the first heading. */
export function headingLabel(outline: ReportOutline, headingIds: number[]): string {
  const root = soleTopHeading(outline);
  const ids = root !== undefined && headingIds.length > 1 && headingIds[0] === root ? headingIds.slice(1) : headingIds;
  return ids.map((i) => outline.headings[i]!.text).join(' › ');
}

/** The heading path in force at `offset`: that of the last heading starting at or before it. */
export function headingIdsAt(outline: ReportOutline, offset: number): number[] {
  const { headings } = outline;
  let lo = 0;
  let hi = headings.length - 1;
  let found: Heading | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (headings[mid]!.start <= offset) {
      found = headings[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found?.path ?? [];
}

/** The index of the first passage starting at or after `offset` (passages.length when none does): they are in order. */
export function firstPassageAtOrAfter(passages: readonly Passage[], offset: number): number {
  let lo = 0;
  let hi = passages.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (passages[mid]!.start < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
