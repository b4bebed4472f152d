import { readFileSync } from 'node:fs';

/** A message as the API answers it (API.md). */
export interface ApiMessage {
  id: string;
  seq: number;
  role: 'user' | 'assistant';
  content: string;
  status: string;
  replyTo: string | null;
  error: string | null;
  sources: ApiSource[];
  context: { passages: number; totalPassages: number } | null;
  reportRevision: number | null;
  conversationId: string;
  copiedFrom: string | null;
}

/** A conversation as the API answers it. */
export interface ApiConversation {
  id: string;
  title: string;
  visibility: 'shared' | 'private';
  isMain: boolean;
  forkedFrom: { conversationId: string; seq: number } | null;
  lastSeq: number;
}

/** A passage an answer rests on: `quote === content.slice(start, end)` of the report revision it was given on. */
export interface ApiSource {
  n: number;
  start: number;
  end: number;
  quote: string;
  heading: string;
}

/** The API as the tests check it, outside the browser, with one user's token. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  private async call(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('Authorization', `Bearer ${this.token}`);
    if (init.body) headers.set('Content-Type', 'application/json');
    return fetch(`${this.baseUrl}${path}`, { ...init, headers });
  }

  async createReport(title: string, content: string): Promise<{ id: string }> {
    const res = await this.call('/api/reports', { method: 'POST', body: JSON.stringify({ title, content }) });
    if (res.status !== 201) throw new Error(`POST /api/reports answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as { id: string };
  }

  /** Changes a report's content (`PATCH`), which makes a new revision of it. */
  async updateReport(reportId: string, content: string): Promise<{ revision: number }> {
    const res = await this.call(`/api/reports/${reportId}`, { method: 'PATCH', body: JSON.stringify({ content }) });
    if (res.status !== 200) throw new Error(`PATCH /api/reports answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as { revision: number };
  }

  /** Gives another user a role on a report this user owns (`PUT …/members/:userId`). */
  async share(reportId: string, userId: string, role: 'viewer' | 'editor'): Promise<void> {
    const res = await this.call(`/api/reports/${reportId}/members/${userId}`, { method: 'PUT', body: JSON.stringify({ role }) });
    if (res.status !== 200) throw new Error(`PUT members answered ${res.status}: ${await res.text()}`);
  }

  /** Every message of the report's main conversation, or with `conversationId` of that one, in seq order. */
  async messages(reportId: string, conversationId?: string): Promise<ApiMessage[]> {
    const path = conversationId === undefined ? `/api/reports/${reportId}` : `/api/conversations/${conversationId}`;
    const res = await this.call(`${path}/messages?limit=200`);
    if (res.status !== 200) throw new Error(`GET messages answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { messages: ApiMessage[] }).messages;
  }

  /** The report's conversations this user sees. */
  async conversations(reportId: string): Promise<ApiConversation[]> {
    const res = await this.call(`/api/reports/${reportId}/conversations`);
    if (res.status !== 200) throw new Error(`GET conversations answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { conversations: ApiConversation[] }).conversations;
  }

  async createConversation(reportId: string, body: { title?: string; visibility?: 'shared' | 'private' } = {}): Promise<ApiConversation> {
    const res = await this.call(`/api/reports/${reportId}/conversations`, { method: 'POST', body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`POST conversations answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as ApiConversation;
  }
}

/** A realistic report: a quarterly operations review with sections, lists and tables. */
export function sampleReport(): { title: string; content: string } {
  const content = readFileSync(new URL('../fixtures/support-operations-review.md', import.meta.url), 'utf8');
  const title = /^#\s+(.+)$/m.exec(content)?.[1] ?? 'Report';
  return { title, content };
}

export { contentHash } from '../../../src/web/chat/content-hash.js';
