/**
 * The question a fork was made for (an edited question, or a question asked again to regenerate its answer),
 * handed from the chat that made the fork to the chat that opens it, which sends it. Kept in this tab's
 * sessionStorage until that send has ended, so a reload in between sends it again with the same id: the server
 * stores it once and replays it to the second send.
 */
export interface FirstQuestion {
  /** The message id: the send's idempotency key. */
  id: string;
  content: string;
}

const PREFIX = 'report-chat.first-question:';
/** Where the questions wait when the browser blocks sessionStorage: this page only. */
const fallback = new Map<string, string>();

function storage(): Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> {
  try {
    return window.sessionStorage;
  } catch {
    return {
      getItem: (k) => fallback.get(k) ?? null,
      setItem: (k, v) => void fallback.set(k, v),
      removeItem: (k) => void fallback.delete(k),
    };
  }
}

export const firstQuestions = {
  put(conversationId: string, question: FirstQuestion): void {
    storage().setItem(PREFIX + conversationId, JSON.stringify(question));
  },
  get(conversationId: string): FirstQuestion | undefined {
    const raw = storage().getItem(PREFIX + conversationId);
    if (!raw) return undefined;
    try {
      const parsed = JSON.parse(raw) as Partial<FirstQuestion>;
      return typeof parsed.id === 'string' && typeof parsed.content === 'string' ? { id: parsed.id, content: parsed.content } : undefined;
    } catch {
      return undefined;
    }
  },
  /** The send has ended (stored, refused, or given up: then the question shows with its Retry). */
  done(conversationId: string): void {
    storage().removeItem(PREFIX + conversationId);
  },
};
