import type { LanguageModelV3FilePart, LanguageModelV3Message, LanguageModelV3Prompt, LanguageModelV3TextPart } from '@ai-sdk/provider';
import type { ModelMessage } from 'ai';
import { firstPassageAtOrAfter } from './passages.js';
import { documentTitle, neutraliseDelimiters, renderDocumentSystemPrompt, renderSystemPrompt } from './prompts.js';
import type { AnswerModel, ModelInput, SentReport } from './types.js';

export interface RenderedPrompt {
  prompt: LanguageModelV3Prompt;
  /** For `labels`: each label the prompt shows (`P7`) and the report range of its passage. */
  labels: Map<string, { start: number; end: number }>;
}

/**
 * The prompt in the provider's own (V3) format, as `streamText` would have built it for our input, with the
 * report given the way this model cites it. Anything but plain-text turns is refused rather than half-converted;
 * the answer then fails with a generic message.
 */
export function renderPrompt(input: ModelInput, style: AnswerModel['citations'] = 'labels'): RenderedPrompt {
  if (input.messages.length === 0) throw new Error('the prompt has no messages');
  const turns = input.messages.map(toPromptMessage);
  if (style === 'document') {
    const { tableOfContents } = input.report;
    // A selection changes with the question, but the rules and the contents before it do not: cache them apart.
    const providerOptions = tableOfContents === undefined ? undefined : { anthropic: { cacheControl: { type: 'ephemeral' } } };
    const prompt: LanguageModelV3Prompt = [{ role: 'system', content: renderDocumentSystemPrompt(tableOfContents), providerOptions }];
    const document = reportDocument(input.report);
    const first = turns[0]!;
    if (document && first.role === 'user') turns[0] = { ...first, content: [document, ...first.content] };
    return { prompt: [...prompt, ...turns], labels: new Map() };
  }
  const { text, labels } = labelledExcerpt(input.report);
  const system = renderSystemPrompt(input.report.title, neutraliseDelimiters(text), input.report.tableOfContents);
  return { prompt: [{ role: 'system', content: system }, ...turns], labels };
}

/**
 * An upper bound on the length of the system prompt as `labels` renders it, without neutralising the report
 * (the slow part): neutralising adds one backslash per closing tag, and each one holds a unit that folds to `/`,
 * either a slash-like character or a character reference (`&sol;`, `&#47;`).
 */
export function labelledPromptChars(report: SentReport): number {
  const { text } = report.excerpt;
  let labels = 0;
  forEachLabel(report, (label) => (labels += label.length + 3));
  return renderSystemPrompt(report.title, '', report.tableOfContents).length + text.length + labels + (text.match(SLASH_LIKE)?.length ?? 0);
}

const SLASH_LIKE = /[/&\uff0f\u2044\u2215\u29f8\u2571\u27cb\u3033\u30ce\u4e3f\u2cc6]/g;

/**
 * The report (or selection) as a text document with citations on. It is the end of the stable prefix (rules,
 * then this), so it carries the cache breakpoint: every later turn of the conversation reads it from the cache.
 */
function reportDocument(report: SentReport): LanguageModelV3FilePart | undefined {
  if (report.excerpt.text.trim() === '') return undefined; // providers refuse an empty document
  const title = documentTitle(report.title);
  return {
    type: 'file',
    mediaType: 'text/plain',
    filename: title,
    data: new TextEncoder().encode(report.excerpt.text),
    providerOptions: { anthropic: { citations: { enabled: true }, title, cacheControl: { type: 'ephemeral' } } },
  };
}

/** The excerpt with `[P<n>] ` before each passage it holds whole; n is the passage's place in the whole report. */
export function labelledExcerpt(report: SentReport): { text: string; labels: RenderedPrompt['labels'] } {
  const { text } = report.excerpt;
  const labels = new Map<string, { start: number; end: number }>();
  const parts: string[] = [];
  let copied = 0;
  forEachLabel(report, (label, at, passage) => {
    parts.push(text.slice(copied, at), `[${label}] `);
    copied = at;
    labels.set(label, { start: passage.start, end: passage.end });
  });
  parts.push(text.slice(copied));
  return { text: parts.join(''), labels };
}

/** Each passage the excerpt holds whole, with its label and where it starts in the excerpt, in order. */
function forEachLabel(report: SentReport, visit: (label: string, at: number, passage: SentReport['outline']['passages'][number]) => void): void {
  const { passages } = report.outline;
  for (const piece of report.excerpt.pieces) {
    for (let i = firstPassageAtOrAfter(passages, piece.start); i < passages.length; i++) {
      const passage = passages[i]!;
      if (passage.end > piece.end) break;
      visit(`P${passage.id + 1}`, piece.at + (passage.start - piece.start), passage);
    }
  }
}

function toPromptMessage(message: ModelMessage): Extract<LanguageModelV3Message, { role: 'user' | 'assistant' }> & {
  content: Array<LanguageModelV3TextPart | LanguageModelV3FilePart>;
} {
  const { role } = message;
  // The system prompt comes only from the rules: one inside the conversation would be an injection risk.
  if (role !== 'user' && role !== 'assistant') throw new Error(`unsupported prompt message role: ${role}`);
  const content: LanguageModelV3TextPart[] = [];
  if (typeof message.content === 'string') {
    content.push({ type: 'text', text: message.content });
  } else {
    for (const part of message.content) {
      if (part.type !== 'text') throw new Error(`unsupported prompt part: ${part.type}`);
      // Empty text parts are dropped, as the SDK does: some providers reject them.
      if (part.text !== '' || (role === 'assistant' && part.providerOptions != null)) {
        content.push({ type: 'text', text: part.text, providerOptions: part.providerOptions });
      }
    }
  }
  return { role, content, providerOptions: message.providerOptions };
}
