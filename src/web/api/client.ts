import { credentials } from './credentials.js';
import { ApiError, NetworkError, isAbort, toApiError } from './errors.js';
import type { Message, MessagesPage, Report, ReportStatus, ReportSummary, User } from './types.js';

/**
 * The one place that talks to the HTTP API (API.md). Every call goes through `request`, which adds this tab's
 * credentials and turns error answers into ApiError and unreachable servers into NetworkError.
 */

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Called when the API answers 401: the credentials are missing or no longer valid. */
export function onUnauthorized(fn: UnauthorizedListener): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

interface RequestOptions {
  method?: string;
  json?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  accept?: string;
}

async function request(path: string, options: RequestOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers);
  headers.set('Accept', options.accept ?? 'application/json');
  if (options.json !== undefined) headers.set('Content-Type', 'application/json');
  credentials.apply(headers);
  let res: Response;
  try {
    res = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.json === undefined ? undefined : JSON.stringify(options.json),
      signal: options.signal,
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new NetworkError(err);
  }
  if (res.ok) return res;
  const error = await toApiError(res);
  if (error.status === 401) for (const fn of [...unauthorizedListeners]) fn();
  throw error;
}

async function json<T>(path: string, options?: RequestOptions): Promise<T> {
  const res = await request(path, options);
  try {
    return (await res.json()) as T;
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new NetworkError(err);
  }
}

const reportPath = (reportId: string) => `/api/reports/${encodeURIComponent(reportId)}`;

export interface PageQuery {
  limit?: number;
  before?: number;
  after?: number;
}

export type ExportFormat = 'markdown' | 'json';

export const api = {
  me: (signal?: AbortSignal) => json<{ user: User }>('/api/me', { signal }),

  listReports: (signal?: AbortSignal) => json<{ reports: ReportSummary[] }>('/api/reports', { signal }),

  getReport: (reportId: string, signal?: AbortSignal) => json<Report>(reportPath(reportId), { signal }),

  createReport: (input: { title: string; content: string; status?: ReportStatus }) =>
    json<Report>('/api/reports', { method: 'POST', json: input }),

  listMessages(reportId: string, query: PageQuery, signal?: AbortSignal): Promise<MessagesPage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    return json<MessagesPage>(`${reportPath(reportId)}/messages?${params.toString()}`, { signal });
  },

  /** Sends a user message; the answer is a UI message stream (see turn-stream.ts). `id` is the idempotency key. */
  sendMessage: (reportId: string, body: { id: string; content: string }, signal?: AbortSignal) =>
    request(`${reportPath(reportId)}/messages`, { method: 'POST', json: body, accept: 'text/event-stream', signal }),

  stopAnswer: (reportId: string, messageId: string) =>
    json<{ message: Message }>(`${reportPath(reportId)}/messages/${encodeURIComponent(messageId)}/stop`, { method: 'POST' }),

  async clearConversation(reportId: string, version: number): Promise<void> {
    await request(`${reportPath(reportId)}/messages`, { method: 'DELETE', headers: { 'If-Match': `"${version}"` } });
  },

  /**
   * The live updates of a conversation. A first connection resumes from the history it loaded (`?after=`); a
   * reconnection from the last event it received (`Last-Event-ID`).
   */
  events(reportId: string, resume: { after: number } | { lastEventId: number }, signal: AbortSignal): Promise<Response> {
    const path = `${reportPath(reportId)}/events`;
    return 'after' in resume
      ? request(`${path}?after=${resume.after}`, { accept: 'text/event-stream', signal })
      : request(path, { accept: 'text/event-stream', headers: { 'Last-Event-ID': String(resume.lastEventId) }, signal });
  },

  async exportConversation(reportId: string, format: ExportFormat): Promise<{ blob: Blob; filename: string }> {
    const res = await request(`${reportPath(reportId)}/export?format=${format}`, { accept: '*/*' });
    const disposition = res.headers.get('Content-Disposition') ?? '';
    const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `conversation.${format === 'json' ? 'json' : 'md'}`;
    return { blob: await res.blob(), filename };
  },
};

export { ApiError, NetworkError };
