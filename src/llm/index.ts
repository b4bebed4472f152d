// The model layer's public face: src/chat imports from here only.
export type {
  AnswerEvent,
  AnswerModel,
  AnswerUsage,
  ContextInput,
  ContextRecord,
  HistoryMessage,
  LlmConfig,
  MessageAuthor,
  ModelInput,
  Source,
} from './types.js';
export { createAnswerModel } from './providers.js';
export { buildModelInput } from './context.js';
export { answerEvents, streamAnswer, type StreamAnswerArgs } from './stream-answer.js';
