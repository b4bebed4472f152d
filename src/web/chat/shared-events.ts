import { ApiError, isAbort } from '../api/errors.js';
import type { ConversationEvent, ConversationRef } from '../api/types.js';
import { CatchUpLog } from './catch-up-log.js';
import { conversationKey } from './conversation-ref.js';
import type { EventsConnection, EventsHandlers, LiveStatus } from './events-connection.js';
import { newMessageId } from './new-message-id.js';
import { browserEnv, type Channel, type Locks, type SharedEventsEnv } from './shared-events-env.js';

/**
 * One events stream for all the tabs of a browser that show one conversation to one user. A browser opens at most 6
 * HTTP/1.1 connections to a host: with a stream per tab, six tabs hold them all and every other request of every tab
 * (a send, a history page, the next tab's page itself) waits. So the tabs elect a leader with a Web Lock, held for
 * the leader's life and released by the browser when its tab closes or is discarded (and by the tab itself before
 * it is frozen); the leader runs the real stream (events-connection.ts) and relays every handler call on a
 * BroadcastChannel. Lock and channel are named after the user and the conversation (conversationKey), so a tab
 * signed in as someone else never hears another person's events, and tabs of two conversations of one report
 * never hear each other's.
 *
 * Nothing is missed:
 * - a tab that joins says which version it has seen (`hello`) and the leader answers with what changed since
 *   (catch-up-log.ts), or, when its log does not reach back that far, starts its stream again from there;
 * - a new leader resumes from the highest version it has seen (Last-Event-ID), and asks the others what they have
 *   seen, as any joiner would be asked. A message or delta heard twice merges into one (message-merge.ts).
 * Without Web Locks (an http:// page other than localhost) or BroadcastChannel, each tab has its own stream.
 */

/**
 * What travels on the channel. `from` is the leader's tab: notes of two senders may arrive in either order, so a
 * follower takes the status only from the leader it heard last (not from the one that resigned before it).
 */
type Note =
  | { kind: 'event'; event: ConversationEvent }
  | { kind: 'status'; from: string; status: LiveStatus }
  /** The conversation is gone or no longer visible to this user: every tab stops. */
  | { kind: 'fatal'; status: number; code: string; message: string }
  /** A tab has just become the leader: the others say what they have seen. */
  | { kind: 'leader'; from: string }
  /** The leader stops leading (its page no longer shows the conversation, is frozen, or its own credentials failed). */
  | { kind: 'resign'; from: string }
  | { kind: 'hello'; tab: string; version: number }
  | { kind: 'catch-up'; from: string; tab: string; events: ConversationEvent[]; status: LiveStatus }
  | { kind: 'reconnect' };

/**
 * After a fatal answer the leader keeps the lock this long, so the other tabs read the fatal note and withdraw their
 * lock requests before one of them is granted it and asks the server again for nothing.
 */
const FATAL_HOLD_MS = 1_000;

export interface SharedEventsTarget {
  conversation: ConversationRef;
  /** The signed-in user; undefined: this tab has a stream of its own. */
  userId: string | undefined;
  /** The highest version of the conversation this tab has seen: where its stream starts if it comes to lead. */
  version(): number;
}

/** As connectEvents, but shared with the other tabs of this browser that show this conversation to this user. */
export function connectSharedEvents(target: SharedEventsTarget, handlers: EventsHandlers, env = browserEnv()): EventsConnection {
  if (!env.locks || !env.channel || !target.userId) return env.connect(target.conversation, target.version(), handlers);
  return new SharedEventsTab(target, handlers, { ...env, locks: env.locks, channel: env.channel });
}

class SharedEventsTab implements EventsConnection {
  private readonly id = newMessageId();
  private readonly name: string;
  private readonly channel: Channel;
  /** This tab's place in the lock's queue: aborting it withdraws the request, or ends the leadership once granted. */
  private turn: AbortController | undefined;
  private ended = false;
  private frozen = false;
  private leading: { log: CatchUpLog; status: LiveStatus; connection: EventsConnection | undefined } | undefined;
  /** The current stream's number: calls from a stream this tab has closed are not relayed. */
  private generation = 0;
  /** The lock could not be had: this tab's own stream. */
  private own: EventsConnection | undefined;
  private readonly unwatch: () => void;
  /** The tab that leads, as far as this follower has heard. */
  private leader: string | undefined;

  constructor(
    private readonly target: SharedEventsTarget,
    private readonly handlers: EventsHandlers,
    private readonly env: SharedEventsEnv & { locks: Locks; channel: (name: string) => Channel },
  ) {
    this.name = `report-chat:events:${target.userId}:${conversationKey(target.conversation)}`;
    this.channel = env.channel(this.name);
    this.channel.onmessage = (e) => this.receive(e.data as Note);
    this.unwatch = env.watchFreezing?.((frozen) => (frozen ? this.freeze() : this.join())) ?? (() => {});
    this.join();
  }

  reconnectNow(): void {
    if (this.own) this.own.reconnectNow();
    else if (this.leading) this.leading.connection?.reconnectNow();
    else this.post({ kind: 'reconnect' });
  }

  close(): void {
    if (this.own) return this.own.close();
    if (this.ended) return;
    if (this.leading) this.post({ kind: 'resign', from: this.id });
    this.end();
    this.handlers.onStatus('closed');
  }

  /** Says what this tab has seen (a leader answers with what it lacks) and queues for the lock. */
  private join(): void {
    if (this.ended || (this.turn && !this.turn.signal.aborted)) return; // already in the queue, or leading
    this.frozen = false;
    const turn = (this.turn = new AbortController());
    this.post({ kind: 'hello', tab: this.id, version: this.target.version() });
    this.env.locks.request(this.name, { signal: turn.signal }, () => this.lead(turn.signal)).catch((err: unknown) => {
      if (this.ended || turn.signal.aborted || isAbort(err)) return;
      // The lock manager refused (a sandboxed frame, a browser policy): follow the conversation alone.
      this.end();
      this.own = this.env.connect(this.target.conversation, this.target.version(), this.handlers);
    });
  }

  /**
   * The page is about to stop running tasks. Leading, it would keep the lock and relay nothing; queued, it could be
   * granted the lock and never use it. So it hands over and leaves the queue; it joins again when it runs again.
   */
  private freeze(): void {
    if (this.ended || this.frozen) return;
    this.frozen = true;
    const leading = this.leading;
    if (leading) {
      this.post({ kind: 'resign', from: this.id });
      this.leading = undefined;
      this.generation++;
      leading.connection?.close();
    }
    this.turn?.abort();
  }

  /** Runs while this tab holds the lock; the lock goes when the promise settles (or the tab goes). */
  private lead(turn: AbortSignal): Promise<void> {
    if (this.ended || turn.aborted) return Promise.resolve();
    const from = this.target.version();
    this.leading = { log: new CatchUpLog(from), status: 'connecting', connection: undefined };
    this.post({ kind: 'leader', from: this.id });
    this.connect(from);
    return new Promise((resolve) => turn.addEventListener('abort', () => resolve(), { once: true }));
  }

  private connect(after: number): void {
    const leading = this.leading;
    if (!leading) return;
    const generation = ++this.generation;
    const current = () => generation === this.generation && !this.ended;
    leading.connection = this.env.connect(this.target.conversation, after, {
      onMessage: (message, version) => {
        if (current()) this.relay(leading.log, { type: 'message', message, version });
      },
      onDelta: (d) => {
        if (current()) this.relay(leading.log, { type: 'delta', id: d.id, offset: d.offset, text: d.text });
      },
      onCleared: (version) => {
        if (current()) this.relay(leading.log, { type: 'cleared', version });
      },
      onStatus: (status) => {
        if (!current()) return;
        leading.status = status;
        this.post({ kind: 'status', from: this.id, status });
        this.handlers.onStatus(status);
      },
      onFatal: (err) => {
        if (current()) this.fatal(err);
      },
    });
  }

  private relay(log: CatchUpLog, event: ConversationEvent): void {
    log.record(event);
    this.post({ kind: 'event', event });
    this.apply(event);
  }

  private fatal(err: ApiError): void {
    // 401 is about this tab's credentials (an API token is kept per tab): the next leader tries with its own.
    if (err.status === 401) this.post({ kind: 'resign', from: this.id });
    else this.post({ kind: 'fatal', status: err.status, code: err.code, message: err.message });
    this.end(err.status === 401 ? 0 : FATAL_HOLD_MS);
    this.handlers.onFatal(err);
    this.handlers.onStatus('closed');
  }

  private receive(note: Note): void {
    if (this.ended) return;
    switch (note.kind) {
      case 'event':
        // From the leader, or the last words of one that has just gone: merging a copy twice changes nothing.
        return this.apply(note.event);
      case 'status':
        if (this.leading || (this.leader !== undefined && this.leader !== note.from)) return;
        this.leader = note.from;
        return this.handlers.onStatus(note.status);
      case 'catch-up':
        if (note.tab !== this.id || this.leading) return;
        this.leader = note.from;
        for (const event of note.events) this.apply(event);
        return this.handlers.onStatus(note.status);
      case 'leader':
        if (this.leading) return;
        this.leader = note.from;
        return this.post({ kind: 'hello', tab: this.id, version: this.target.version() });
      case 'resign':
        if (this.leading || note.from !== this.leader) return;
        this.leader = undefined;
        return this.handlers.onStatus('reconnecting');
      case 'fatal': {
        this.end();
        this.handlers.onFatal(new ApiError(note.status, note.code, note.message));
        return this.handlers.onStatus('closed');
      }
      case 'hello':
        return this.welcome(note.tab, note.version);
      case 'reconnect':
        return this.leading?.connection?.reconnectNow();
    }
  }

  /** A tab joined (or a new leader asked): it gets what it lacks, on the channel, before anything relayed later. */
  private welcome(tab: string, version: number): void {
    const leading = this.leading;
    if (!leading || !Number.isSafeInteger(version) || version < 0) return;
    const events = leading.log.since(version);
    if (events) return this.post({ kind: 'catch-up', from: this.id, tab, events, status: leading.status });
    // It has seen less than this stream started from: start again from its version, the server replays the
    // changes since then to every tab (each merges what it already holds).
    leading.log.rewind(version);
    this.generation++;
    leading.connection?.close();
    this.connect(version);
  }

  private apply(event: ConversationEvent): void {
    if (event.type === 'message') this.handlers.onMessage(event.message, event.version);
    else if (event.type === 'delta') this.handlers.onDelta({ id: event.id, offset: event.offset, text: event.text });
    else this.handlers.onCleared(event.version);
  }

  private post(note: Note): void {
    if (!this.ended) this.channel.postMessage(note);
  }

  /** This tab takes no further part: its stream closes and its lock (held or requested) goes after `holdMs`. */
  private end(holdMs = 0): void {
    if (this.ended) return;
    this.ended = true;
    this.generation++;
    this.leading?.connection?.close();
    this.channel.close();
    this.unwatch();
    const turn = this.turn;
    if (holdMs > 0 && this.leading) setTimeout(() => turn?.abort(), holdMs);
    else turn?.abort();
  }
}
