import type { StoredSource } from '../store/types.js';

/**
 * A source as an AI SDK UI message stream chunk (`source-document`), so an unmodified AI SDK client (useChat,
 * readUIMessageStream) shows it as a `source-document` part: `title` is the heading path, and the offsets and the
 * quote travel in `providerMetadata.reportChat`. `sourceId` is unique across answers: the answer's id and `n`.
 */
export function sourceDocumentChunk(answerId: string, source: StoredSource) {
  return {
    type: 'source-document',
    sourceId: `${answerId}:${source.n}`,
    mediaType: 'text/markdown',
    title: source.heading,
    providerMetadata: { reportChat: { n: source.n, start: source.start, end: source.end, quote: source.quote } },
  } as const;
}
