import { parseSse } from './sse.js';
import type {
  AdminSession,
  AdminSignIn,
  AdminUser,
  AdminUserList,
  Conversation,
  ConversationEvent,
  ConversationList,
  ConversationPatch,
  CreatedToken,
  CreatedUser,
  Invite,
  Me,
  Member,
  MemberDetail,
  MemberList,
  Message,
  MessagesPage,
  NewConversation,
  NewMember,
  NewReport,
  NewToken,
  NewUser,
  PasswordChange,
  Report,
  ReportList,
  ReportPatch,
  StoppedAnswer,
  TokenList,
  Turn,
  TurnStreamEvent,
} from './types.js';

/** An error answer of the API: its status, its code from API.md's closed set, and the message for a person. */
export class ReportChatError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Headers,
  ) {
    super(message);
    this.name = 'ReportChatError';
  }
}

export interface ClientOptions {
  /** Where the API is, e.g. `http://127.0.0.1:3000` or `/chat` under a prefix; '' for same-origin in a browser. */
  baseUrl?: string;
  /** An API token or JWT; omit to use the browser's session cookie. */
  token?: string | (() => string | undefined);
  fetch?: typeof fetch;
}

export interface SendOptions {
  /** The message id (idempotency key). Choose it once per message and reuse it for retries. */
  id?: string;
  /** Compare-and-append: the conversation version the caller saw. */
  ifMatch?: number;
  signal?: AbortSignal;
}

/** Options every call takes. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** A conversation's export as a file. */
export interface ExportedFile {
  /** From `Content-Disposition`, when the server named the file. */
  filename: string | undefined;
  contentType: string;
  body: Blob;
}

/**
 * A typed client for the report-chat API (API.md): plain `fetch`, so it runs in browsers, Node, Deno, Bun and
 * edge runtimes. Streams are async iterables.
 */
export class ReportChatClient {
  private readonly base: string;
  private readonly doFetch: typeof fetch;

  constructor(private readonly options: ClientOptions = {}) {
    this.base = (options.baseUrl ?? '').replace(/\/$/, '');
    this.doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  me = (options: CallOptions = {}) => this.json<Me>('GET', '/api/me', undefined, options);
  listReports = (options: CallOptions = {}) => this.json<ReportList>('GET', '/api/reports', undefined, options);
  /** With `revision`, the content of that revision: the text an answer's sources point into (its `reportRevision`). */
  getReport = (reportId: string, options: CallOptions & { revision?: number } = {}) =>
    this.json<Report>('GET', reportPath(reportId) + (options.revision === undefined ? '' : `?revision=${options.revision}`), undefined, options);
  createReport = (input: NewReport, options: CallOptions = {}) =>
    this.json<Report>('POST', '/api/reports', input, options);
  updateReport = (reportId: string, patch: ReportPatch) =>
    this.json<Report>('PATCH', reportPath(reportId), patch);
  setMember = (reportId: string, userId: string, role: Member['role']) =>
    this.json<Member>('PUT', `${reportPath(reportId)}/members/${enc(userId)}`, { role });
  removeMember = (reportId: string, userId: string) => this.send('DELETE', `${reportPath(reportId)}/members/${enc(userId)}`).then(() => undefined);
  /** Who has access: the owner sees every member; anyone else the owner and their own role. */
  listMembers = (reportId: string, options: CallOptions = {}) => this.json<MemberList>('GET', `${reportPath(reportId)}/members`, undefined, options);
  /** Shares the report with the user who has this email (any case). Owner only; 404 no such user, 409 already a member. */
  addMember = (reportId: string, member: NewMember) => this.json<MemberDetail>('POST', `${reportPath(reportId)}/members`, member);

  /** The current password is required when you have one (403 when wrong); your other sessions are signed out. */
  changePassword = (change: PasswordChange) => this.send('POST', '/api/me/password', change).then(() => undefined);
  listTokens = (options: CallOptions = {}) => this.json<TokenList>('GET', '/api/tokens', undefined, options);
  /** A new API token of the caller: its secret is in this answer only. */
  createToken = (input: NewToken = {}) => this.json<CreatedToken>('POST', '/api/tokens', input);
  revokeToken = (tokenId: string) => this.send('DELETE', `/api/tokens/${enc(tokenId)}`).then(() => undefined);

  // Administration: with the admin token as this client's token, or, in a browser and without a token, with the
  // admin page's cookie that `adminSignIn` sets.
  adminSignIn = (credential: AdminSignIn, options: CallOptions = {}) => this.json<AdminSession>('POST', '/api/admin/session', credential, options);
  /** 401 when the admin page's cookie is missing or its session ended. */
  adminSession = (options: CallOptions = {}) => this.json<AdminSession>('GET', '/api/admin/session', undefined, options);
  adminSignOut = () => this.send('DELETE', '/api/admin/session').then(() => undefined);
  listUsers = (options: CallOptions = {}) => this.json<AdminUserList>('GET', '/api/users', undefined, options);
  /** With `invite: true`, also a code for the link `/invite#<code>` with which they choose their password. */
  createUser = (input: NewUser) => this.json<CreatedUser>('POST', '/api/users', input);
  disableUser = (userId: string) => this.json<AdminUser>('POST', `/api/users/${enc(userId)}/disable`);
  enableUser = (userId: string) => this.json<AdminUser>('POST', `/api/users/${enc(userId)}/enable`);
  /** A new invite code for the user; an earlier one stops working. */
  inviteUser = (userId: string) => this.json<Invite>('POST', `/api/users/${enc(userId)}/invite`);

  /**
   * Signs a person in with email and password: the server sets its session cookie, which a browser then sends
   * with every same-origin call of a client made without a token. 401 for a wrong pair, 429 after too many tries.
   */
  async login(email: string, password: string, options: CallOptions = {}): Promise<void> {
    await this.send('POST', '/api/auth/login', { email, password }, { signal: options.signal, credentials: 'same-origin' });
  }

  /** Sets the password of the user an invite was made for and signs them in, as `login` does. 404 for a used or expired code. */
  async acceptInvite(code: string, password: string, options: CallOptions = {}): Promise<void> {
    await this.send('POST', '/api/auth/invite', { code, password }, { signal: options.signal, credentials: 'same-origin' });
  }

  /** Ends the session of the cookie (if any) and clears it. */
  async logout(options: CallOptions = {}): Promise<void> {
    await this.send('POST', '/api/auth/logout', undefined, { signal: options.signal, credentials: 'same-origin' });
  }

  history(where: ConversationRef, query: { limit?: number; before?: number; after?: number } = {}, options: CallOptions = {}): Promise<MessagesPage> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.size ? `?${params}` : '';
    return this.json<MessagesPage>('GET', `${conversationPath(where)}/messages${qs}`, undefined, options);
  }

  /** Sends a message and waits for the whole turn (`Accept: application/json`). */
  async ask(where: ConversationRef, content: string, options: SendOptions = {}): Promise<Turn & { replayed: boolean }> {
    const res = await this.send('POST', `${conversationPath(where)}/messages`, { id: options.id ?? crypto.randomUUID(), content }, {
      accept: 'application/json',
      ifMatch: options.ifMatch,
      signal: options.signal,
    });
    return { ...((await res.json()) as Turn), replayed: res.headers.get('idempotent-replayed') === 'true' };
  }

  /** Sends a message and streams the turn's events (API.md's UI message stream). */
  async *stream(where: ConversationRef, content: string, options: SendOptions = {}): AsyncGenerator<TurnStreamEvent> {
    const res = await this.send('POST', `${conversationPath(where)}/messages`, { id: options.id ?? crypto.randomUUID(), content }, {
      accept: 'text/event-stream',
      ifMatch: options.ifMatch,
      signal: options.signal,
    });
    if (!res.body) return;
    for await (const ev of parseSse(res.body, options.signal)) {
      if (ev.data === '[DONE]') return;
      yield JSON.parse(ev.data) as TurnStreamEvent;
    }
  }

  stop = (where: ConversationRef, messageId: string) =>
    this.json<StoppedAnswer>('POST', `${conversationPath(where)}/messages/${enc(messageId)}/stop`);

  /**
   * Live changes of the conversation, from `after` (a version) on. Ends when the server closes the stream.
   * `onOpen` runs once the server has accepted the stream, before any event (which may be long in coming).
   */
  async *events(where: ConversationRef, options: { after?: number; signal?: AbortSignal; onOpen?: () => void } = {}): AsyncGenerator<ConversationEvent> {
    const headers: Record<string, string> = {};
    if (options.after !== undefined) headers['Last-Event-ID'] = String(options.after);
    const res = await this.send('GET', `${conversationPath(where)}/events`, undefined, { accept: 'text/event-stream', headers, signal: options.signal });
    options.onOpen?.();
    if (!res.body) return;
    for await (const ev of parseSse(res.body, options.signal)) {
      const data = JSON.parse(ev.data) as Record<string, unknown>;
      if (ev.event === 'message') yield { type: 'message', version: Number(ev.id), message: data as unknown as Message };
      else if (ev.event === 'delta') yield { type: 'delta', ...(data as { id: string; offset: number; text: string }) };
      else if (ev.event === 'cleared') yield { type: 'cleared', version: Number(data.version) };
    }
  }

  async export(where: ConversationRef, format: 'markdown' | 'json'): Promise<string> {
    return (await this.send('GET', `${conversationPath(where)}/export?format=${format}`)).text();
  }

  /** The export as a file: its bytes, type and the name the server gave it. */
  async exportFile(where: ConversationRef, format: 'markdown' | 'json', options: CallOptions = {}): Promise<ExportedFile> {
    const res = await this.send('GET', `${conversationPath(where)}/export?format=${format}`, undefined, { accept: '*/*', signal: options.signal });
    const disposition = res.headers.get('content-disposition') ?? '';
    return {
      filename: /filename="([^"]+)"/.exec(disposition)?.[1],
      contentType: res.headers.get('content-type') ?? 'application/octet-stream',
      body: await res.blob(),
    };
  }

  async clear(where: ConversationRef, version: number): Promise<void> {
    await this.send('DELETE', `${conversationPath(where)}/messages`, undefined, { ifMatch: version });
  }

  /** The report's conversations the caller may see, newest activity first (the main one among them). */
  listConversations = (reportId: string, options: CallOptions = {}) =>
    this.json<ConversationList>('GET', `${reportPath(reportId)}/conversations`, undefined, options);

  /**
   * Starts a conversation, or forks one (`forkFrom`). Idempotent by `id`: choose it once and send the same body
   * again after a lost answer; `replayed` says the conversation already existed.
   */
  async createConversation(reportId: string, input: NewConversation = {}, options: CallOptions = {}): Promise<{ conversation: Conversation; replayed: boolean }> {
    const res = await this.send('POST', `${reportPath(reportId)}/conversations`, { id: crypto.randomUUID(), ...input }, { signal: options.signal });
    return { conversation: (await res.json()) as Conversation, replayed: res.headers.get('idempotent-replayed') === 'true' };
  }

  getConversation = (conversationId: string, options: CallOptions = {}) =>
    this.json<Conversation>('GET', `/api/conversations/${enc(conversationId)}`, undefined, options);
  updateConversation = (conversationId: string, patch: ConversationPatch) =>
    this.json<Conversation>('PATCH', `/api/conversations/${enc(conversationId)}`, patch);

  /** Deletes a conversation (not the main one) with its messages; `version` is the one you last saw (If-Match). */
  async deleteConversation(conversationId: string, version: number): Promise<void> {
    await this.send('DELETE', `/api/conversations/${enc(conversationId)}`, undefined, { ifMatch: version });
  }

  private async json<T>(method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<T> {
    return (await (await this.send(method, path, body, { signal: options.signal })).json()) as T;
  }

  private async send(
    method: string,
    path: string,
    body?: unknown,
    extra: { accept?: string; ifMatch?: number; headers?: Record<string, string>; signal?: AbortSignal; credentials?: RequestCredentials } = {},
  ): Promise<Response> {
    const headers = new Headers(extra.headers);
    headers.set('Accept', extra.accept ?? 'application/json');
    if (body !== undefined) headers.set('Content-Type', 'application/json');
    if (extra.ifMatch !== undefined) headers.set('If-Match', `"${extra.ifMatch}"`);
    const token = typeof this.options.token === 'function' ? this.options.token() : this.options.token;
    if (token) headers.set('Authorization', `Bearer ${token}`);
    const res = await this.doFetch(`${this.base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: extra.signal,
      // Signing in and out is about the cookie, whatever token the client holds.
      credentials: extra.credentials ?? (token ? 'omit' : 'same-origin'),
    });
    if (res.ok || res.status === 304) return res;
    let code = 'unknown';
    let message = `HTTP ${res.status}`;
    try {
      const parsed = (await res.json()) as { error?: { code?: string; message?: string } };
      code = parsed.error?.code ?? code;
      message = parsed.error?.message ?? message;
    } catch {
      // Not our error format (a proxy's page): keep the status.
    }
    throw new ReportChatError(res.status, code, message, res.headers);
  }
}

/**
 * Which conversation a call is about: a report id means the report's main conversation (the version 1 routes),
 * `{ conversationId }` any conversation of a report.
 */
export type ConversationRef = string | { conversationId: string };

const enc = encodeURIComponent;
const reportPath = (reportId: string) => `/api/reports/${enc(reportId)}`;
const conversationPath = (where: ConversationRef) =>
  typeof where === 'string' ? reportPath(where) : `/api/conversations/${enc(where.conversationId)}`;
