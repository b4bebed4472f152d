import { PassageIndex } from './passage-search.js';
import { firstPassageAtOrAfter, splitReport, type Passage, type ReportOutline } from './passages.js';
import { excerptOf, onlyWhitespace, type ReportExcerpt } from './report-excerpt.js';
import { estimateTokens } from './tokens.js';

/** A report split and indexed once, for every turn of every conversation about it while it stays in the cache. */
export interface IndexedReport {
  outline: ReportOutline;
  /** Built on first use: a report that fits the budget whole is never searched. */
  search(): PassageIndex;
}

const CACHED_REPORTS = 4;
const cache = new Map<string, IndexedReport>();

/** The outline (and, when needed, the search index) of a report's content, cached by the content itself. */
export function indexReport(content: string): IndexedReport {
  const hit = cache.get(content);
  if (hit) {
    cache.delete(content); // re-inserted below: the Map's order is the least recently used first
    cache.set(content, hit);
    return hit;
  }
  const outline = splitReport(content);
  let index: PassageIndex | undefined;
  const indexed: IndexedReport = { outline, search: () => (index ??= new PassageIndex(outline.passages)) };
  cache.set(content, indexed);
  if (cache.size > CACHED_REPORTS) cache.delete(cache.keys().next().value!);
  return indexed;
}

export interface Selection {
  excerpt: ReportExcerpt;
  tableOfContents: string;
}

/** Passages looked at, best first; past these, what is left is noise and the walk only costs time. */
const MAX_CANDIDATES = 300;
/** The contents may take at most this share of the selection's budget; deeper levels go first. */
const TOC_SHARE = 0.4;
/** A label and a note between slices, roughly, per passage. */
const PASSAGE_OVERHEAD_TOKENS = 12;

/**
 * What of a report too long to send whole is sent: the table of contents (every heading, as far as a share of
 * the budget allows), then the passages the question and the last questions make most relevant, each with the
 * heading lines above it, in report order, with a note of how much was left out between them.
 */
export function selectPassages(args: {
  content: string;
  report: IndexedReport;
  question: string;
  earlierQuestions: string[];
  budgetTokens: number;
}): Selection {
  const { content, report, budgetTokens } = args;
  const { outline } = report;
  const tableOfContents = contentsWithin(outline, Math.floor(budgetTokens * TOC_SHARE));
  let remaining = budgetTokens - estimateTokens(tableOfContents);

  const { ranked } = report.search().rank(args.question, args.earlierQuestions);
  // A question that matches nothing still gets the report's opening, where most reports say what they are.
  const candidates = ranked.length > 0 ? ranked.slice(0, MAX_CANDIDATES).map((r) => r.passage) : outline.passages.slice(0, MAX_CANDIDATES);
  const headingsSent = new Set<number>();
  const chosen: Passage[] = [];
  let partial: { start: number; end: number } | undefined;
  for (const passage of candidates) {
    if (remaining < PASSAGE_OVERHEAD_TOKENS) break;
    const newHeadings = passage.headingIds.filter((id) => !headingsSent.has(id));
    const cost =
      estimateTokens(passage.text) +
      PASSAGE_OVERHEAD_TOKENS +
      newHeadings.reduce((n, id) => n + estimateTokens(content.slice(outline.headings[id]!.start, outline.headings[id]!.end)) + 1, 0);
    if (cost > remaining) {
      if (chosen.length > 0 || partial) continue; // a shorter passage further down may still fit
      // The best passage alone is too big for the budget: its opening words are better than nothing.
      const chars = (remaining - cost + estimateTokens(passage.text)) * 4;
      if (chars < 200) continue;
      partial = { start: passage.start, end: cutAtWhitespace(content, passage.start, passage.start + chars) };
      remaining = 0;
      newHeadings.forEach((id) => headingsSent.add(id));
      continue;
    }
    remaining -= cost;
    chosen.push(passage);
    newHeadings.forEach((id) => headingsSent.add(id));
  }

  const ranges = [
    ...[...headingsSent].map((id) => ({ start: outline.headings[id]!.start, end: outline.headings[id]!.end })),
    ...chosen.map((p) => ({ start: p.start, end: p.end })),
    ...(partial ? [partial] : []),
  ].sort((a, b) => a.start - b.start);
  const excerpt = excerptOf(content, ranges, (from, to) => gapNote(outline, content, from, to));
  return { excerpt, tableOfContents };
}

/** The end of a cut of `text` from `start` to at most `end`, at a word boundary, never inside a surrogate pair. */
function cutAtWhitespace(text: string, start: number, end: number): number {
  let cut = end;
  const lastSpace = text.slice(start, end + 1).search(/\s\S*$/);
  if (lastSpace > 0 && start + lastSpace >= end - 200) cut = start + lastSpace;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  while (cut > start && /\s/.test(text[cut - 1]!)) cut--;
  return cut;
}

/** Every heading, indented by level, under a line giving the report's size; deepest levels dropped to fit. */
function contentsWithin(outline: ReportOutline, budgetTokens: number): string {
  const { headings, passages } = outline;
  const top = Math.min(...headings.map((h) => h.level));
  const header = `The whole report: ${passages.length} passages under ${headings.length} headings.`;
  for (let deepest = 6; deepest >= top; deepest--) {
    const kept = headings.filter((h) => h.level <= deepest);
    const omitted = headings.length - kept.length;
    const lines = kept.map((h) => `${'  '.repeat(h.level - top)}- ${h.text}`);
    if (omitted > 0) lines.push(`(${omitted} deeper headings left out)`);
    const text = [header, ...lines].join('\n');
    if (estimateTokens(text) <= budgetTokens || deepest === top) return text;
  }
  return header;
}

/** What stands in the excerpt for the report's text between `from` and `to`, which is not sent. */
function gapNote(outline: ReportOutline, content: string, from: number, to: number): string {
  if (to <= from || onlyWhitespace(content, from, to)) return '';
  const omitted = countBetween(outline.passages, from, to);
  const what = omitted === 0 ? '…' : `… ${omitted} passage${omitted === 1 ? '' : 's'} left out …`;
  return `${from === 0 ? '' : '\n\n'}[${what}]${to === content.length ? '' : '\n\n'}`;
}

function countBetween(passages: Passage[], from: number, to: number): number {
  return firstPassageAtOrAfter(passages, to) - firstPassageAtOrAfter(passages, from);
}
