// The package's public API: embed report-chat in another app, or talk to one with the typed client.
export { createReportChat, type ReportChatHandler, type ReportChatOptions } from './embed.js';
export { ReportChatClient, ReportChatError, type ClientOptions, type SendOptions } from './client/index.js';
export type * from './client/types.js';
