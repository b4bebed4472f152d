import { rankPassages, type RankedPassage } from './passage-search.js';
import { splitReport, type ReportOutline } from './passages.js';

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

/** The offline model's whole answer, as Markdown. A pure function: the same input gives the same answer. */
export function composeLocalAnswer(q: LocalQuestion): string {
  const name = q.title.trim() === '' ? 'the report' : `“${q.title.trim()}”`;
  const intro = `*This is report-chat's offline model: no AI model is configured, so I answer by quoting ${name} itself.*`;
  const outline = splitReport(q.report);
  if (outline.passages.length === 0) {
    return `${intro}\n\nThe report is empty, so there is nothing in it to answer from.\n`;
  }
  const { ranked, basis } = rankPassages(outline.passages, q.question, q.earlierQuestions);
  const best = pickQuotes(ranked);
  if (best.length === 0) return noMatch(intro, outline);

  const root = soleTopHeading(outline);
  const quotes = best.map(({ passage }) => {
    // A report's single top heading is its title: repeating it before every section is noise.
    const path = root !== undefined && passage.headingPath.length > 1 ? passage.headingPath.slice(1) : passage.headingPath;
    const label = path.length > 0 ? path.join(' › ') : 'Opening of the report';
    return `**${label}**\n\n${blockquote(shorten(passage.text))}`;
  });
  const lead =
    basis === 'conversation'
      ? `The words of your question do not appear in the report; going by the conversation so far, ${best.length === 1 ? 'this passage seems' : 'these passages seem'} closest:`
      : best.length === 1
        ? 'This is the passage that best matches your question:'
        : 'These passages best match your question:';
  return [
    intro,
    lead,
    ...quotes,
    'That is what the report says on this; ask about another section, or configure an AI model for answers in its own words.',
  ].join('\n\n') + '\n';
}

function pickQuotes(ranked: RankedPassage[]): RankedPassage[] {
  const top = ranked[0]?.score ?? 0;
  return ranked.slice(0, MAX_QUOTES).filter((r) => r.score > 0 && r.score >= top * MIN_RELATIVE_SCORE);
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

/** The report's title heading, when exactly one heading sits at the top level and others below it. */
function soleTopHeading(outline: ReportOutline): string | undefined {
  const minLevel = Math.min(...outline.headings.map((h) => h.level));
  const top = outline.headings.filter((h) => h.level === minLevel);
  return top.length === 1 && outline.headings.length > 1 ? top[0]!.text : undefined;
}

function shorten(text: string): string {
  if (text.length <= MAX_QUOTE_CHARS) return text;
  const cut = text.slice(0, MAX_QUOTE_CHARS);
  const lastSpace = cut.search(/\s\S*$/);
  let short = `${(lastSpace > MAX_QUOTE_CHARS / 2 ? cut.slice(0, lastSpace) : cut).trimEnd()} …`;
  // A code block cut in half would swallow the rest of the answer, so close its fence.
  if ((short.match(/^ {0,3}(```|~~~)/gm) ?? []).length % 2 === 1) short += '\n```';
  return short;
}

function blockquote(text: string): string {
  return text
    .split('\n')
    .map((line) => (line.trim() === '' ? '>' : `> ${line}`))
    .join('\n');
}
