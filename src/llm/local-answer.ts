import { rankPassages, type RankedPassage } from './passage-search.js';
import { headingLabel, soleTopHeading, splitReport, type ReportOutline } from './passages.js';

export interface LocalQuestion {
  title: string;
  report: string;
  question: string;
  /** Earlier user messages, oldest first. */
  earlierQuestions: string[];
}

const MAX_QUOTES = 3;
/** A passage far weaker than the best one is noise, not a second source. */
const MIN_RELATIVE_SCORE = 0.3;
const MAX_QUOTE_CHARS = 700;
const MAX_SUGGESTED_HEADINGS = 10;

/**
 * A piece of the answer's text; `cites` is the range of the report (as the model was given it) that the piece
 * rests on, as offsets into `LocalQuestion.report`.
 */
export interface AnswerPiece {
  text: string;
  cites?: { start: number; end: number };
}

/** The offline model's whole answer, as Markdown. */
export function composeLocalAnswer(q: LocalQuestion): string {
  return composeLocalAnswerPieces(q)
    .map((p) => p.text)
    .join('');
}

/**
 * The offline model's whole answer in pieces: each quoted passage's heading is a piece citing exactly the words
 * quoted under it. A pure function: the same input gives the same answer.
 */
export function composeLocalAnswerPieces(q: LocalQuestion): AnswerPiece[] {
  const name = q.title.trim() === '' ? 'the report' : `“${q.title.trim()}”`;
  const intro = `*This is report-chat's offline model: no AI model is configured, so I answer by quoting ${name} itself.*`;
  const outline = splitReport(q.report);
  if (outline.passages.length === 0) {
    return [{ text: `${intro}\n\nThe report is empty, so there is nothing in it to answer from.\n` }];
  }
  const { ranked, basis } = rankPassages(outline.passages, q.question, q.earlierQuestions);
  const best = pickQuotes(ranked);
  if (best.length === 0) return [{ text: noMatch(intro, outline) }];

  const quotes = best.map(({ passage }): AnswerPiece[] => {
    // A report's single top heading is its title: repeating it before every section is noise.
    const label = headingLabel(outline, passage.headingIds) || 'Opening of the report';
    const { quoted, shown } = shorten(passage.text);
    // The citation marker follows the heading (`**Costs** [1]`), where it cannot break the quote's Markdown.
    return [
      { text: `**${label}** `, cites: { start: passage.start, end: passage.start + quoted.length } },
      { text: `\n\n${blockquote(shown)}\n\n` },
    ];
  });
  const lead =
    basis === 'conversation'
      ? `The words of your question do not appear in the report; going by the conversation so far, ${best.length === 1 ? 'this passage seems' : 'these passages seem'} closest:`
      : best.length === 1
        ? 'This is the passage that best matches your question:'
        : 'These passages best match your question:';
  return [
    { text: `${intro}\n\n${lead}\n\n` },
    ...quotes.flat(),
    { text: 'These are the report’s own words; ask about another section for more, or configure an AI model for answers that go beyond quoting.\n' },
  ];
}

/**
 * The best passage, then the next best ones that either score close to it or answer a part of the question
 * the quotes so far do not ("revenue and hosting costs" wants one passage on each, even if one scores lower).
 */
function pickQuotes(ranked: RankedPassage[]): RankedPassage[] {
  const top = ranked[0]?.score ?? 0;
  const picked: RankedPassage[] = [];
  const covered = new Set<string>();
  for (const candidate of ranked) {
    if (picked.length === MAX_QUOTES || candidate.score <= 0) break;
    const addsTerm = candidate.questionTerms.some((t) => !covered.has(t));
    if (picked.length > 0 && !addsTerm && candidate.score < top * MIN_RELATIVE_SCORE) continue;
    picked.push(candidate);
    candidate.questionTerms.forEach((t) => covered.add(t));
  }
  return picked;
}

function noMatch(intro: string, outline: ReportOutline): string {
  // The top two levels are what a reader sees as the report's sections, below the title if it has one.
  const top = Math.min(...outline.headings.map((h) => h.level)) + (soleTopHeading(outline) !== undefined ? 1 : 0);
  const sections = [...new Set(outline.headings.filter((h) => h.level >= top && h.level <= top + 1).map((h) => h.text))];
  const lines = [intro, 'I could not find anything in the report that matches your question.'];
  if (sections.length > 0) {
    const shown = sections.slice(0, MAX_SUGGESTED_HEADINGS);
    const more = sections.length > shown.length ? `\n- …and ${sections.length - shown.length} more` : '';
    lines.push(`The report covers these sections; try asking about one of them:\n\n${shown.map((s) => `- ${s}`).join('\n')}${more}`);
  } else {
    lines.push('Try asking with words that appear in the report.');
  }
  return lines.join('\n\n') + '\n';
}

/** `quoted`: the start of the passage that is quoted, verbatim; `shown`: how it is shown. */
function shorten(text: string): { quoted: string; shown: string } {
  if (text.length <= MAX_QUOTE_CHARS) return { quoted: text, shown: text };
  const cut = text.slice(0, MAX_QUOTE_CHARS);
  const lastSpace = cut.search(/\s\S*$/);
  const quoted = (lastSpace > MAX_QUOTE_CHARS / 2 ? cut.slice(0, lastSpace) : cut).trimEnd();
  let shown = `${quoted} …`;
  // A code block cut in half would swallow the rest of the answer, so close its fence.
  if ((shown.match(/^ {0,3}(```|~~~)/gm) ?? []).length % 2 === 1) shown += '\n```';
  return { quoted, shown };
}

function blockquote(text: string): string {
  return text
    .split(/\r\n?|\n/)
    .map((line) => (line.trim() === '' ? '>' : `> ${line}`))
    .join('\n');
}
