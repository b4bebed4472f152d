import type { Message } from '../api/types.js';

/**
 * What this tab knows beyond the server's copy: a question it is still sending or could not send, or an answer
 * whose final commit it was not told about. Cleared as soon as the server shows the message as stored.
 */
export type LocalDelivery =
  | { kind: 'sending' }
  | { kind: 'send-failed'; reason: string }
  | { kind: 'unsaved'; reason: string };

/** A message of the conversation on screen. `seq` is null until the server has stored the message. */
export interface ChatMessage extends Omit<Message, 'seq'> {
  seq: number | null;
  local?: LocalDelivery;
}

/** The state a person sees next to a message, in words. */
export type DisplayState =
  | 'sending'
  | 'queued'
  | 'answering'
  | 'saved'
  | 'not-saved'
  | 'failed'
  | 'stopped'
  | 'interrupted';

export function displayState(m: ChatMessage): DisplayState {
  if (m.local?.kind === 'sending') return 'sending';
  if (m.local?.kind === 'send-failed' || m.local?.kind === 'unsaved') return 'not-saved';
  switch (m.status) {
    case 'queued':
      return 'queued';
    case 'streaming':
      return 'answering';
    case 'complete':
      return 'saved';
    case 'failed':
      return 'failed';
    case 'stopped':
      return 'stopped';
    case 'interrupted':
      return 'interrupted';
  }
}
