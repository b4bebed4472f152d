import { ReportChatClient, ReportChatError } from '../../client/index.js';
import { credentials } from './credentials.js';
import { ApiError, NetworkError, abortError, isAbort } from './errors.js';
import type {
  AdminSignIn,
  Conversation,
  ConversationEvent,
  ConversationPatch,
  ConversationRef,
  Me,
  MemberRole,
  Message,
  MessagesPage,
  NewConversation,
  NewUser,
  PasswordChange,
  Report,
  ReportStatus,
  ReportSummary,
  TurnStreamEvent,
} from './types.js';

/**
 * The web UI's side of the shared typed client (src/client, the same ReportChatClient outside callers use): the
 * requests, the stream parsing and the types come from there. This wrapper adds what is particular to a browser
 * tab: its credentials (credentials.ts), answers that are never cached, the UI's error classes (ApiError,
 * NetworkError) and the 401 listeners that send the person back to the sign-in page.
 */

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Called when the API answers 401: the credentials are missing or no longer valid. */
export function onUnauthorized(fn: UnauthorizedListener): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

const client = new ReportChatClient({
  baseUrl: '',
  token: () => credentials.bearer(),
  fetch: (input, init) => fetch(input, { ...init, cache: 'no-store' }),
});

/** The UI's error for anything a call threw; a 401 also tells the listeners (unless `quiet`). */
function translate(err: unknown, quiet = false): unknown {
  if (err instanceof ApiError || err instanceof NetworkError || isAbort(err)) return err;
  if (err instanceof ReportChatError) {
    const error = ApiError.from(err);
    if (error.status === 401 && !quiet) for (const fn of [...unauthorizedListeners]) fn();
    return error;
  }
  // fetch's TypeError (offline, refused, reset) or a body that broke while it was read.
  return new NetworkError(err);
}

async function call<T>(fn: () => Promise<T>, quiet = false): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw translate(err, quiet);
  }
}

/** A stream of the shared client with the UI's errors: NetworkError when it breaks, AbortError when `signal` aborts. */
async function* translated<T>(source: AsyncGenerator<T>, signal: AbortSignal | undefined, first?: IteratorResult<T>): AsyncGenerator<T> {
  try {
    let next = first ?? (await call(() => source.next()));
    while (!next.done) {
      yield next.value;
      next = await call(() => source.next());
    }
  } finally {
    await source.return(undefined).catch(() => {});
  }
  // The shared client ends a stream quietly when its signal aborts; the UI tells an abort from an end.
  if (signal?.aborted) throw abortError();
}

export interface PageQuery {
  limit?: number;
  before?: number;
  after?: number;
}

export type ExportFormat = 'markdown' | 'json';

export const api = {
  /** Who the credentials belong to. `quiet`: a 401 is the caller's to handle (the listeners are not told). */
  me: (signal?: AbortSignal, options: { quiet?: boolean } = {}): Promise<Me> => call(() => client.me({ signal }), options.quiet),

  /** Signs a person in with email and password; the session cookie does the rest. A 401 here is a wrong pair. */
  login: (email: string, password: string): Promise<void> => call(() => client.login(email, password), true),

  logout: (): Promise<void> => call(() => client.logout(), true),

  listReports: (signal?: AbortSignal): Promise<{ reports: ReportSummary[] }> => call(() => client.listReports({ signal })),

  /** The report as it is now, or with `revision`, its content at that revision (what an answer's sources point into). */
  getReport: (reportId: string, signal?: AbortSignal, revision?: number): Promise<Report> =>
    call(() => client.getReport(reportId, { signal, ...(revision === undefined ? {} : { revision }) })),

  createReport: (input: { title: string; content: string; status?: ReportStatus }): Promise<Report> => call(() => client.createReport(input)),

  listMessages: (where: ConversationRef, query: PageQuery, signal?: AbortSignal): Promise<MessagesPage> =>
    call(() => client.history(where, query, { signal })),

  /**
   * Sends a user message (`id` is its idempotency key) and resolves once the server has answered, with the turn's
   * UI message stream (see turn-stream.ts). A refusal (4xx, 503) or no answer at all is thrown here.
   */
  async sendMessage(where: ConversationRef, body: { id: string; content: string }, signal?: AbortSignal): Promise<AsyncIterable<TurnStreamEvent>> {
    const source = client.stream(where, body.content, { id: body.id, signal });
    // The first event comes with the answer's head: the request's own failure is thrown by this await.
    const first = await call(() => source.next());
    return translated(source, signal, first);
  },

  stopAnswer: (where: ConversationRef, messageId: string): Promise<{ message: Message }> => call(() => client.stop(where, messageId)),

  clearConversation: (where: ConversationRef, version: number): Promise<void> => call(() => client.clear(where, version)),

  /**
   * The live updates of a conversation after `version` (the history it loaded, or the last event received), so
   * nothing is missed or repeated across reconnections. The request is made when iteration starts; `onOpen` runs
   * once the server has accepted the stream (its first event may be long in coming).
   */
  events(where: ConversationRef, after: number, options: { signal: AbortSignal; onOpen: () => void }): AsyncIterable<ConversationEvent> {
    return translated(client.events(where, { after, signal: options.signal, onOpen: options.onOpen }), options.signal);
  },

  async exportConversation(where: ConversationRef, format: ExportFormat): Promise<{ blob: Blob; filename: string }> {
    const file = await call(() => client.exportFile(where, format));
    return { blob: file.body, filename: file.filename ?? `conversation.${format === 'json' ? 'json' : 'md'}` };
  },

  /** The report's conversations this user may see, newest activity first. */
  listConversations: (reportId: string, signal?: AbortSignal): Promise<Conversation[]> =>
    call(async () => (await client.listConversations(reportId, { signal })).conversations),

  /** Starts or forks a conversation. Idempotent by `input.id`: send the same input again after a lost answer. */
  createConversation: (reportId: string, input: NewConversation & { id: string }, signal?: AbortSignal): Promise<Conversation> =>
    call(async () => (await client.createConversation(reportId, input, { signal })).conversation),

  getConversation: (conversationId: string, signal?: AbortSignal): Promise<Conversation> => call(() => client.getConversation(conversationId, { signal })),

  updateConversation: (conversationId: string, patch: ConversationPatch): Promise<Conversation> =>
    call(() => client.updateConversation(conversationId, patch)),

  deleteConversation: (conversationId: string, version: number): Promise<void> => call(() => client.deleteConversation(conversationId, version)),

  listMembers: (reportId: string, signal?: AbortSignal) => call(() => client.listMembers(reportId, { signal })),
  addMember: (reportId: string, email: string, role: MemberRole) => call(() => client.addMember(reportId, { email, role })),
  setMember: (reportId: string, userId: string, role: MemberRole) => call(() => client.setMember(reportId, userId, role)),
  removeMember: (reportId: string, userId: string) => call(() => client.removeMember(reportId, userId)),

  changePassword: (change: PasswordChange) => call(() => client.changePassword(change)),
  listTokens: (signal?: AbortSignal) => call(() => client.listTokens({ signal })),
  createToken: (name: string | undefined) => call(() => client.createToken(name ? { name } : {})),
  revokeToken: (tokenId: string) => call(() => client.revokeToken(tokenId)),

  /** Sets the invited person's password and signs them in (the session cookie). A 404 is a used or expired code. */
  acceptInvite: (code: string, password: string): Promise<void> => call(() => client.acceptInvite(code, password), true),
};

/**
 * The admin page's calls. They go with the admin page's cookie only: never with a person's token this tab may hold
 * (it would be sent instead of the cookie), and a 401 is the admin page's own (a person's session is not ended).
 */
const adminClient = new ReportChatClient({ baseUrl: '', fetch: (input, init) => fetch(input, { ...init, cache: 'no-store' }) });
const adminCall = <T>(fn: () => Promise<T>): Promise<T> => call(fn, true);

export const adminApi = {
  signIn: (credential: AdminSignIn) => adminCall(() => adminClient.adminSignIn(credential)),
  session: (signal?: AbortSignal) => adminCall(() => adminClient.adminSession({ signal })),
  signOut: () => adminCall(() => adminClient.adminSignOut()),
  listUsers: (signal?: AbortSignal) => adminCall(() => adminClient.listUsers({ signal })),
  createUser: (input: NewUser) => adminCall(() => adminClient.createUser(input)),
  disableUser: (userId: string) => adminCall(() => adminClient.disableUser(userId)),
  enableUser: (userId: string) => adminCall(() => adminClient.enableUser(userId)),
  inviteUser: (userId: string) => adminCall(() => adminClient.inviteUser(userId)),
};

export { ApiError, NetworkError };
