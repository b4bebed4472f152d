export { ReportChatClient, ReportChatError, type CallOptions, type ClientOptions, type ExportedFile, type SendOptions } from './client.js';
export { parseSse, type ServerSentEvent } from './sse.js';
export type * from './types.js';
