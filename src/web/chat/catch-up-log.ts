import type { ConversationEvent, Message } from '../api/types.js';
import { applyDelta } from './message-merge.js';

/** Messages held at most: a tab that leads for hours forgets the oldest changes (and says so through `from`). */
const MAX_MESSAGES = 200;

/**
 * What the tab holding the shared events stream (shared-events.ts) has received since `from`, so that a tab joining
 * later is told what it missed without a request of its own. Like the server's resume read it keeps the newest copy
 * of each message changed (its text grown by the deltas since) and the last clear, so it stays as small as the part
 * of the conversation that changed, and a joiner gets each message once, with its live text.
 */
export class CatchUpLog {
  private readonly latest = new Map<string, { message: Message; version: number }>();
  private clearedAt: number | undefined;

  /** Every change after this version is held. */
  constructor(private from: number) {}

  record(event: ConversationEvent): void {
    if (event.type === 'message') {
      const held = this.latest.get(event.message.id);
      if (held && held.version > event.version) return; // a resumed stream's older copy
      this.latest.set(event.message.id, { message: event.message, version: event.version });
      if (this.latest.size > MAX_MESSAGES) this.forgetOldest();
    } else if (event.type === 'delta') {
      const held = this.latest.get(event.id);
      if (!held) return; // changed before `from`: the joiner holds it, or repairs it as any tab does
      const grown = applyDelta(held.message, event.offset, event.text);
      if (typeof grown !== 'string') held.message = { ...held.message, content: grown.content };
    } else {
      // The messages before a clear are gone: a joiner hears of the clear and of what came after it.
      this.latest.clear();
      this.clearedAt = Math.max(this.clearedAt ?? 0, event.version);
    }
  }

  /** What a tab that has seen `version` lacks, in version order; undefined when changes from before `from` would be needed. */
  since(version: number): ConversationEvent[] | undefined {
    if (version < this.from) return undefined;
    const events: ConversationEvent[] = [];
    if (this.clearedAt !== undefined && this.clearedAt > version) events.push({ type: 'cleared', version: this.clearedAt });
    const changed = [...this.latest.values()].filter((e) => e.version > version).sort((a, b) => a.version - b.version);
    for (const { message, version: v } of changed) events.push({ type: 'message', message, version: v });
    return events;
  }

  /** The stream starts again from `version` (the server replays what changed since): the log covers it from there. */
  rewind(version: number): void {
    this.from = Math.min(this.from, version);
  }

  private forgetOldest(): void {
    let oldest: { id: string; version: number } | undefined;
    for (const [id, e] of this.latest) if (!oldest || e.version < oldest.version) oldest = { id, version: e.version };
    if (!oldest) return;
    this.latest.delete(oldest.id);
    this.from = Math.max(this.from, oldest.version);
  }
}
