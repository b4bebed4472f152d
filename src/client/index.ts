export { ReportChatClient, ReportChatError, type CallOptions, type ClientOptions, type ConversationRef, type ExportedFile, type SendOptions } from './client.js';
export { parseSse, SseParser, type ServerSentEvent, type SseRecord } from './sse.js';
export type * from './types.js';
