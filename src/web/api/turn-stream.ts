import { readSse } from './sse-reader.js';
import type { Message } from './types.js';

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

type StreamPart =
  | { type: 'start'; messageId: string }
  | { type: 'data-turn'; data: { userMessage: Message; assistantMessage: Message } }
  | { type: 'text-start' | 'text-end'; id: string }
  | { type: 'text-delta'; id: string; delta: string }
  | { type: 'error'; errorText: string }
  | { type: 'data-saved'; data: { saved: boolean; message: Message } }
  | { type: 'finish' };

/** Reads the stream to its end. A broken connection is not an error here: it ends with `sawSaved: false`. */
export async function readTurnStream(res: Response, handlers: TurnStreamHandlers, signal?: AbortSignal): Promise<TurnStreamEnd> {
  let sawSaved = false;
  if (!res.body) return { sawSaved };
  try {
    await readSse(
      res.body,
      ({ data }) => {
        if (data === '[DONE]') return;
        const part = JSON.parse(data) as StreamPart;
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
          default:
            // start, text-start, text-end, finish: nothing to do.
            break;
        }
      },
      signal,
    );
  } catch (err) {
    if (signal?.aborted) throw err;
    // The connection broke: whatever was not received is unknown, which sawSaved=false says.
  }
  return { sawSaved };
}
