import MiniSearch from 'minisearch';
import type { Passage } from './passages.js';
import { STOP_WORDS } from './stop-words.js';

export interface RankedPassage {
  passage: Passage;
  score: number;
  /** The question's terms this passage matched (after stop words; prefix/fuzzy matches count). */
  questionTerms: string[];
}

/** Earlier user messages, newest first, count for this fraction of the question's weight. */
const CONTEXT_WEIGHTS = [0.5, 0.25];

const tokenize = MiniSearch.getDefault('tokenize') as (text: string) => string[];

function processTerm(term: string): string | null {
  const t = term.toLowerCase().replace(/^'+|'+$/g, '');
  return t.length < 2 || STOP_WORDS.has(t) ? null : t;
}

/** The words of `text` that can match anything: what is left after stop words. */
export function contentTerms(text: string): string[] {
  return tokenize(text).flatMap((t) => processTerm(t) ?? []);
}

export interface Ranking {
  ranked: RankedPassage[];
  /** 'conversation' when the question alone matched nothing and the ranking follows the earlier questions. */
  basis: 'question' | 'conversation';
}

// A question that leans on the conversation: "and why did they fall?", "is that still true?".
const REFERS_BACK = /\b(it|its|they|them|their|that|this|those|these|there|he|she|his|her)\b/i;

/**
 * Ranks passages against the question, helped by the recent conversation (`earlier`, oldest first). Passages
 * the question matches come first, nudged by the earlier questions. Only when the question matches nothing and
 * reads as a follow-up (no words of its own, or a pronoun pointing back) does the conversation alone decide,
 * so an unrelated question is never answered from an earlier topic.
 */
export function rankPassages(passages: Passage[], question: string, earlier: string[]): Ranking {
  return new PassageIndex(passages).rank(question, earlier);
}

/** A report's passages indexed once, to rank them against any number of questions. */
export class PassageIndex {
  private readonly index: MiniSearch<Passage & { heading: string }>;

  constructor(private readonly passages: Passage[]) {
    this.index = new MiniSearch<Passage & { heading: string }>({
      fields: ['text', 'heading'],
      processTerm,
      searchOptions: {
        boost: { heading: 1.5 },
        // Prefix and fuzzy matching catch plurals and typos; on short terms they would match too much.
        prefix: (term) => term.length >= 4,
        fuzzy: (term) => (term.length >= 5 ? 0.2 : false),
        combineWith: 'OR',
      },
    });
    this.index.addAll(passages.map((p) => ({ ...p, heading: p.headingPath.join(' ') })));
  }

  rank(question: string, earlier: string[]): Ranking {
    const { index, passages } = this;
    const search = (text: string) => new Map(index.search(text).map((r) => [r.id as number, r.score]));

    const ownTerms = contentTerms(question).length > 0;
    const questionResults = ownTerms ? index.search(question) : [];
    const fromQuestion = new Map(questionResults.map((r) => [r.id as number, r.score]));
    const termsOf = new Map(questionResults.map((r) => [r.id as number, r.queryTerms]));
    const basis = fromQuestion.size > 0 ? 'question' : 'conversation';
    if (basis === 'conversation' && ownTerms && !REFERS_BACK.test(question)) return { ranked: [], basis };

    const combined = new Map(fromQuestion);
    earlier
      .slice(-CONTEXT_WEIGHTS.length)
      .reverse()
      .forEach((text, i) => {
        for (const [id, score] of search(text)) {
          if (basis === 'question' && !fromQuestion.has(id)) continue;
          combined.set(id, (combined.get(id) ?? 0) + score * CONTEXT_WEIGHTS[i]!);
        }
      });

    // Ties break by document order so the same input always gives the same answer.
    const ranked = [...combined]
      .map(([id, score]) => ({ passage: passages[id]!, score, questionTerms: termsOf.get(id) ?? [] }))
      .sort((a, b) => b.score - a.score || a.passage.id - b.passage.id);
    return { ranked, basis };
  }
}
