import type { MessageRow } from '../store/types.js';

/**
 * Every change to a conversation, as seen by live readers. In one process the bus delivers directly; a
 * cross-process transport (PostgreSQL LISTEN/NOTIFY) plugs in behind the same interface.
 */
export type BusEvent =
  | { type: 'message'; conversationId: string; message: MessageRow }
  /** `offset`: the answer's length in UTF-16 code units before `text`. */
  | { type: 'delta'; conversationId: string; messageId: string; offset: number; text: string }
  | { type: 'cleared'; conversationId: string; version: number }
  | { type: 'stop'; conversationId: string; messageId: string }
  /** A member lost access: their open events streams on this conversation close. */
  | { type: 'revoked'; conversationId: string; userId: string }
  /** The conversation was deleted (`exceptUserId` null) or made private: every reader but `exceptUserId` loses it. */
  | { type: 'hidden'; conversationId: string; exceptUserId: string | null };

export type BusListener = (event: BusEvent) => void;

/** Told the key of a credential that ended (see credentialKey in access-watch.ts). */
export type CredentialListener = (credentialKey: string) => void;

export interface EventBus {
  publish(event: BusEvent): void;
  /** Listens to one conversation; the returned function unsubscribes. */
  subscribe(conversationId: string, listener: BusListener): () => void;
  /**
   * Tells every instance that a credential ended (an API token revoked, a session signed out). Not tied to a
   * conversation: the credential's streams may be open on any report.
   */
  publishCredentialEnded(credentialKey: string): void;
  /** Listens to every ended credential; the returned function stops listening. */
  onCredentialEnded(listener: CredentialListener): () => void;
  /** Number of subscriptions, for metrics and leak checks in tests. */
  size(): number;
  /** Sends what is still pending and releases connections (a cross-process bus); call after the engine stopped. */
  close?(): Promise<void>;
}

export function createLocalBus(onListenerError: (err: unknown) => void = () => {}): EventBus {
  const byConversation = new Map<string, Set<BusListener>>();
  const credentialListeners = new Set<CredentialListener>();
  let count = 0;
  return {
    publishCredentialEnded(credentialKey) {
      notifyCredentialEnded(credentialListeners, credentialKey, onListenerError);
    },
    onCredentialEnded(listener) {
      credentialListeners.add(listener);
      return () => void credentialListeners.delete(listener);
    },
    publish(event) {
      const listeners = byConversation.get(event.conversationId);
      if (!listeners) return;
      // A copy: a listener may unsubscribe itself (or others) while we deliver.
      for (const listener of [...listeners]) {
        try {
          listener(event);
        } catch (err) {
          // One broken subscriber must not stop delivery to the others, nor the turn that published.
          onListenerError(err);
        }
      }
    },
    subscribe(conversationId, listener) {
      let listeners = byConversation.get(conversationId);
      if (!listeners) {
        listeners = new Set();
        byConversation.set(conversationId, listeners);
      }
      listeners.add(listener);
      count++;
      return unsubscribeOnce(() => {
        count--;
        listeners.delete(listener);
        if (listeners.size === 0) byConversation.delete(conversationId);
      });
    },
    size: () => count,
  };
}

/** An unsubscribe function that does its work the first time only: a second call must not count the listener twice. */
export function unsubscribeOnce(remove: () => void): () => void {
  let active = true;
  return () => {
    if (!active) return;
    active = false;
    remove();
  };
}

/** Delivers an ended credential to each listener; one that throws does not keep it from the others. */
export function notifyCredentialEnded(listeners: Set<CredentialListener>, credentialKey: string, onListenerError: (err: unknown) => void) {
  for (const listener of [...listeners]) {
    try {
      listener(credentialKey);
    } catch (err) {
      onListenerError(err);
    }
  }
}
