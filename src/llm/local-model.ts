import { setTimeout as sleep } from 'node:timers/promises';
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3GenerateResult,
  LanguageModelV3Prompt,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
  LanguageModelV3Usage,
} from '@ai-sdk/provider';
import { composeLocalAnswer, type LocalQuestion } from './local-answer.js';
import { parseMemberMessages, parseSystemPrompt } from './prompts.js';
import { estimateTokens } from './tokens.js';

/** A few words per chunk reads like a model typing without flooding the client with events. */
const WORDS_PER_CHUNK = 3;
const TEXT_ID = 'text-0';

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
    const { text, usage } = answer(options.prompt);
    return { content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    const signal = options.abortSignal;
    signal?.throwIfAborted();
    const { text, usage } = answer(options.prompt);
    const chunks = chunkWords(text, WORDS_PER_CHUNK);
    const delayMs = this.chunkDelayMs;
    const cancelled = new AbortController();
    const pauseSignal = signal ? AbortSignal.any([signal, cancelled.signal]) : cancelled.signal;
    let next = 0;

    const stream = new ReadableStream<LanguageModelV3StreamPart>({
      start(controller) {
        controller.enqueue({ type: 'stream-start', warnings: [] });
        controller.enqueue({ type: 'text-start', id: TEXT_ID });
      },
      // Pull-based, so the pause runs only while someone is reading; an abort rejects the pause at once and
      // errors the stream the way an aborted fetch would.
      async pull(controller) {
        signal?.throwIfAborted();
        if (next > 0 && delayMs > 0) await sleep(delayMs, undefined, { signal: pauseSignal });
        const chunk = chunks[next++];
        if (chunk !== undefined) {
          controller.enqueue({ type: 'text-delta', id: TEXT_ID, delta: chunk });
          return;
        }
        controller.enqueue({ type: 'text-end', id: TEXT_ID });
        controller.enqueue({ type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage });
        controller.close();
      },
      cancel() {
        cancelled.abort();
      },
    });
    return { stream };
  }
}

function answer(prompt: LanguageModelV3Prompt): { text: string; usage: LanguageModelV3Usage } {
  const text = composeLocalAnswer(readPrompt(prompt));
  const inputChars = prompt.reduce((n, m) => n + messageText(m).length, 0);
  return { text, usage: usageOf(Math.ceil(inputChars / 4), estimateTokens(text)) };
}

/** The report from our own system prompt; the question is the last member's message, earlier ones give context. */
function readPrompt(prompt: LanguageModelV3Prompt): LocalQuestion {
  const system = prompt.filter((m) => m.role === 'system').map(messageText).join('\n');
  const report = parseSystemPrompt(system);
  // A user turn holds one or more labelled messages; one not in our form counts as a single message.
  const userTexts = prompt
    .filter((m) => m.role === 'user')
    .map(messageText)
    .flatMap((text) => parseMemberMessages(text) ?? [text]);
  return {
    title: report?.title ?? '',
    report: report?.content ?? '',
    question: userTexts[userTexts.length - 1] ?? '',
    earlierQuestions: userTexts.slice(0, -1),
  };
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
