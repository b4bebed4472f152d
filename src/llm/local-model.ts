import { setTimeout as sleep } from 'node:timers/promises';
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3FilePart,
  LanguageModelV3GenerateResult,
  LanguageModelV3Prompt,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
  LanguageModelV3Usage,
} from '@ai-sdk/provider';
import { composeLocalAnswerPieces, type AnswerPiece, type LocalQuestion } from './local-answer.js';
import { estimateTokens } from './tokens.js';

/** A few words per chunk reads like a model typing without flooding the client with events. */
const WORDS_PER_CHUNK = 3;

/**
 * The offline model: answers by quoting the report passages that best match the question. It speaks the same
 * interface as the real providers, so everything above it (streaming, stop, storage) runs the same code.
 */
export class LocalReportModel implements LanguageModelV3 {
  readonly specificationVersion = 'v3';
  readonly provider = 'report-chat';
  readonly modelId = 'local';
  readonly supportedUrls = {};

  constructor(private readonly chunkDelayMs: number) {}

  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    options.abortSignal?.throwIfAborted();
    const { pieces, usage } = answer(options.prompt);
    const text = pieces.map((p) => p.text).join('');
    return { content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    const signal = options.abortSignal;
    signal?.throwIfAborted();
    const parts = answerParts(options.prompt);
    const delayMs = this.chunkDelayMs;
    const cancelled = new AbortController();
    const pauseSignal = signal ? AbortSignal.any([signal, cancelled.signal]) : cancelled.signal;
    let next = 0;
    let typed = false;

    const stream = new ReadableStream<LanguageModelV3StreamPart>({
      start(controller) {
        controller.enqueue({ type: 'stream-start', warnings: [] });
      },
      // Pull-based, so the pause runs only while someone is reading; an abort rejects the pause at once and
      // errors the stream the way an aborted fetch would.
      async pull(controller) {
        signal?.throwIfAborted();
        // Everything up to and including the next piece of text; the pause comes before each piece but the first.
        while (next < parts.length) {
          const part = parts[next]!;
          if (part.type === 'text-delta') {
            if (typed && delayMs > 0) await sleep(delayMs, undefined, { signal: pauseSignal });
            typed = true;
          }
          next++;
          controller.enqueue(part);
          if (part.type === 'text-delta') return;
        }
        controller.close();
      },
      cancel() {
        cancelled.abort();
      },
    });
    return { stream };
  }
}

function answer(prompt: LanguageModelV3Prompt): { pieces: AnswerPiece[]; title: string; report: string; usage: LanguageModelV3Usage } {
  const question = readPrompt(prompt);
  const pieces = composeLocalAnswerPieces(question);
  const text = pieces.map((p) => p.text).join('');
  const inputChars = prompt.reduce((n, m) => n + messageText(m).length, 0) + question.report.length;
  return { pieces, title: question.title, report: question.report, usage: usageOf(Math.ceil(inputChars / 4), estimateTokens(text)) };
}

/**
 * The whole stream, as the Anthropic provider shapes a cited answer: each piece is a text block, and a piece
 * that rests on the report opens with a `source` part giving the cited range of the document it was sent.
 */
function answerParts(prompt: LanguageModelV3Prompt): LanguageModelV3StreamPart[] {
  const { pieces, title, report, usage } = answer(prompt);
  const parts: LanguageModelV3StreamPart[] = [];
  pieces.forEach((piece, i) => {
    const id = `text-${i}`;
    parts.push({ type: 'text-start', id });
    if (piece.cites) {
      const { start, end } = piece.cites;
      parts.push({
        type: 'source',
        sourceType: 'document',
        id: `source-${i}`,
        mediaType: 'text/plain',
        title,
        providerMetadata: { local: { citedText: report.slice(start, end), startCharIndex: start, endCharIndex: end } },
      });
    }
    for (const chunk of chunkWords(piece.text, WORDS_PER_CHUNK)) parts.push({ type: 'text-delta', id, delta: chunk });
    parts.push({ type: 'text-end', id });
  });
  parts.push({ type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage });
  return parts;
}

/**
 * The report is the text document the prompt carries (as for Anthropic); the question is the last user
 * message's text, earlier ones give context.
 */
function readPrompt(prompt: LanguageModelV3Prompt): LocalQuestion {
  let document: LanguageModelV3FilePart | undefined;
  const userTexts: string[] = [];
  for (const message of prompt) {
    if (message.role !== 'user') continue;
    document ??= message.content.find((p): p is LanguageModelV3FilePart => p.type === 'file' && p.mediaType === 'text/plain');
    const text = messageText(message);
    if (text !== '') userTexts.push(text);
  }
  const title = document?.providerOptions?.anthropic?.title;
  return {
    title: typeof title === 'string' ? title : (document?.filename ?? ''),
    report: document ? documentText(document) : '',
    question: userTexts[userTexts.length - 1] ?? '',
    earlierQuestions: userTexts.slice(0, -1),
  };
}

function documentText(part: LanguageModelV3FilePart): string {
  const { data } = part;
  if (data instanceof Uint8Array) return new TextDecoder().decode(data);
  if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8');
  return '';
}

function messageText(message: LanguageModelV3Prompt[number]): string {
  if (typeof message.content === 'string') return message.content;
  return message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

/** Splits text into pieces of `words` words each; joined, they are exactly `text` (whitespace included). */
export function chunkWords(text: string, words: number): string[] {
  const pieces = text.match(/^\s+|\S+\s*/g) ?? [];
  const chunks: string[] = [];
  for (let i = 0; i < pieces.length; i += words) chunks.push(pieces.slice(i, i + words).join(''));
  return chunks;
}

function usageOf(input: number, output: number): LanguageModelV3Usage {
  return {
    inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: output, text: output, reasoning: undefined },
  };
}
