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
    'These are the report’s own words; ask about another section for more, or configure an AI model for answers that go beyond quoting.',
  ].join('\n\n') + '\n';
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
