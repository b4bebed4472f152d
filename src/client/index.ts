export { ReportChatClient, ReportChatError, type ClientOptions, type SendOptions } from './client.js';
export { parseSse, type ServerSentEvent } from './sse.js';
export type * from './types.js';
