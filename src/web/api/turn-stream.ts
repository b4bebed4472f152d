import { abortError, isAbort } from './errors.js';
import type { Message, TurnStreamEvent } from './types.js';

/** What a send's answer stream (API.md, AI SDK UI message stream v1) tells, event by event. */
export interface TurnStreamHandlers {
  onTurn(userMessage: Message, assistantMessage: Message): void;
  /** A piece of the answer; the pieces joined from the first are the answer's whole text. */
  onDelta(text: string): void;
  onModelError(errorText: string): void;
  onSaved(saved: boolean, message: Message): void;
}

export interface TurnStreamEnd {
  /** False when the stream ended or broke before `data-saved`: whether the answer was stored is unknown. */
  sawSaved: boolean;
}

/**
 * Reads the stream (parsed by the shared client, see api/client.ts) to its end. A broken connection is not an
 * error here: it ends with `sawSaved: false`. An abort is thrown.
 */
export async function readTurnStream(events: AsyncIterable<TurnStreamEvent>, handlers: TurnStreamHandlers, signal?: AbortSignal): Promise<TurnStreamEnd> {
  let sawSaved = false;
  try {
    for await (const part of events) {
      switch (part.type) {
        case 'data-turn':
          handlers.onTurn(part.data.userMessage, part.data.assistantMessage);
          break;
        case 'text-delta':
          handlers.onDelta(part.delta);
          break;
        case 'error':
          handlers.onModelError(part.errorText);
          break;
        case 'data-saved':
          sawSaved = true;
          handlers.onSaved(part.data.saved, part.data.message);
          break;
        case 'source-document':
          // The answer's sources come again, stored, with its final message (data-saved, events): its `[n]` markers
          // become citations then, as they do for an answer another tab follows.
          break;
        default:
          // start, text-start, text-end, finish: nothing to do.
          break;
      }
    }
  } catch (err) {
    if (isAbort(err)) throw err;
    if (signal?.aborted) throw abortError();
    // The connection broke: whatever was not received is unknown, which sawSaved=false says.
  }
  return { sawSaved };
}
