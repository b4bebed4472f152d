import type { Heading } from '../report/headings.js';

/**
 * Phrasings for common report sections, most useful first. Each names its section, so that any model (the
 * offline one included) finds the passage it is about.
 */
const PATTERNS: Array<[RegExp, (h: string) => string]> = [
  [/\b(summary|overview|tl;?dr|abstract|key findings)\b/i, (h) => `What are the key points of the ${h}?`],
  [/\b(root cause|causes?|contributing factors)\b/i, () => 'What was the root cause, and how do we know?'],
  [/\b(recommendations?|actions?|next steps?|follow-?ups?|remediation)\b/i, (h) => `Which of the ${h} should we act on first, and why?`],
  [/\b(risks?|open questions?|unknowns?|limitations)\b/i, (h) => `What are the ${h}?`],
  [/\b(timeline|chronology)\b/i, () => 'Walk me through the timeline: what happened when?'],
  [/\b(impact|customers?|results?)\b/i, (h) => `What does the report conclude about ${h}?`],
  [/\b(lessons?|learned|went well|went wrong|worked)\b/i, (h) => `What are the lessons from “${h}”?`],
];

/** Up to three first questions, drawn from the report's section headings. */
export function suggestQuestions(headings: Heading[], max = 3): string[] {
  const out: string[] = [];
  const add = (q: string) => {
    if (!out.includes(q) && out.length < max) out.push(q);
  };
  for (const [pattern, phrase] of PATTERNS) {
    const heading = headings.find((h) => pattern.test(h.text));
    if (heading) add(phrase(heading.text));
  }
  for (const h of headings) {
    if (h.level <= 2 && h.text.length <= 60) add(`What does the report say about “${h.text}”?`);
  }
  if (out.length === 0) add('What are the key points of this report?');
  return out;
}
