import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import type { Sql } from '../store/db.js';
import { readChangesAfter, readMessage } from '../store/history.js';
import { listenForNotifications, MAX_NOTIFY_PAYLOAD_BYTES, sendNotifications, type NotificationListener } from '../store/notify.js';
import { isTransientDbError } from '../store/pg-errors.js';
import { readConversationVersions } from '../store/reports.js';
import { isTerminal } from '../store/types.js';
import { notifyCredentialEnded, unsubscribeOnce, type BusEvent, type BusListener, type CredentialListener, type EventBus } from './bus.js';
import { backoffDelay, type Backoff } from '../backoff.js';

/**
 * The event bus across instances (DESIGN.md "Live updates"). The publishing process delivers to its own
 * subscribers at once, as the local bus does; other instances learn of each event through PostgreSQL NOTIFY on one
 * channel, with small payloads that name what changed:
 *
 * - a message change carries only its conversation and version: a receiver reads every message changed after the
 *   last version it delivered (`readChangesAfter`), so a missed or late notification is made up by the next one, by
 *   the re-read after every reconnect of the listening connection, and by a periodic check of the versions of the
 *   conversations it has subscribers for;
 * - a delta carries its text when small, else a marker that makes receivers read the text from the row (it is
 *   there after the owner's next checkpoint);
 * - stop, cleared, revoked and hidden are small payloads; so is an ended credential, which names no conversation and reaches
 *   every instance's credential listeners.
 *
 * Versioned changes (messages, clears) reach subscribers in version order, with none skipped after they subscribed:
 * the events route drops anything not newer than what it last sent, so an instance that delivered version 12
 * before version 11 would lose 11. A local change that arrives while an earlier change by another instance is still
 * unread therefore waits for that read (a millisecond or two); otherwise it is delivered synchronously.
 */

export const NOTIFY_CHANNEL = 'report_chat_events';

export interface PgBusOptions {
  /** For the dedicated listening connection. */
  url: string;
  /** The instance's pool: reads and NOTIFY. */
  sql: Sql;
  instanceId: string;
  log: Logger;
  channel?: string;
  /** application_name of the listening connection; it should start with "report-chat" like the pool's. */
  applicationName?: string;
  /** How often the versions of subscribed conversations are checked, in case a notification never came. */
  resyncMs?: number;
  /** Pauses before reconnecting the listening connection (tests lengthen them to widen the gap). */
  reconnectBackoffMs?: { min: number; max: number };
  onListenerError?: (err: unknown) => void;
}

export interface PgEventBus extends EventBus {
  /** True while the listening connection is up. */
  readonly listening: boolean;
  /** Resolves once the listening connection first LISTENs. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** The NOTIFY payload, with short keys: `i` the sending bus, `c` the conversation. */
type Wire =
  | { i: string; t: 'm'; c: string; v: number }
  | { i: string; t: 'c'; c: string; v: number }
  | { i: string; t: 'd'; c: string; m: string; o: number; x: string }
  | { i: string; t: 'D'; c: string; m: string; o: number; n: number }
  | { i: string; t: 's'; c: string; m: string }
  | { i: string; t: 'r'; c: string; u: string }
  | { i: string; t: 'h'; c: string; u: string | null }
  /** A credential ended: `k` its key. */
  | { i: string; t: 'k'; k: string }
  /** Deltas sent together, in order (their own `i` left out: the batch's). */
  | { i: string; t: 'b'; e: DeltaWire[] };

type DeltaWire = Omit<Extract<Wire, { t: 'd' }>, 'i'>;

type Item =
  /** An event of this process, in publish order; `v` for versioned ones. */
  | { kind: 'local'; event: BusEvent; v: number | undefined }
  /** Another instance changed the conversation at version `v` (undefined: check anyway). */
  | { kind: 'sync'; v: number | undefined }
  | { kind: 'delta'; messageId: string; offset: number; text: string }
  | { kind: 'fetch-delta'; messageId: string; offset: number; length: number };

interface Subscribed {
  readonly id: string;
  readonly listeners: Set<BusListener>;
  /** Every versioned change up to here was delivered, or committed before the first subscriber subscribed. */
  cursor: number;
  readonly queue: Item[];
  draining: boolean;
  /** Remote deltas delivered, by message: where the next one starts. Drops repeats of a re-sent NOTIFY. */
  readonly deltaEnds: Map<string, number>;
}

const PAGE = 500;
const KNOWN_LIMIT = 10_000;
const OUTBOX_LIMIT = 20_000;
/**
 * What one NOTIFY statement takes from the outbox: everything waiting, up to this many bytes of payload (estimated).
 * Not a fixed count of events: a count caps the deltas a second the bus can carry (count / DELTA_GATHER_MS; 200 would
 * be 8,000 a second, 200 answers at 40 chunks a second), and past it the outbox only grows until it sheds.
 */
const BATCH_BYTES = 1024 * 1024;
/**
 * How long deltas alone wait to be sent, gathering others: each NOTIFY batch is a transaction with an xid, whose
 * commit writes WAL, so one batch per delta cost about as many WAL bytes as the streamed text again, several times
 * over (BENCHMARKS.md, "Streaming capacity"). Deltas reach other instances up to this much later; a message event,
 * a stop or anything else goes at once, taking the deltas before it along. Local subscribers are not delayed.
 */
export const DELTA_GATHER_MS = 25;
const FETCH_DELTA_ATTEMPTS = 12;
const FETCH_DELTA_PAUSE_MS = 250;
/** Between attempts to read changes or to send notifications while the database is away: from 25 ms up to 2 s. */
const BUS_RETRY: Backoff = { base: 25, max: 2_000, jitter: 'half' };

/** Makes `list` hold `items` (in place: the list is shared by reference). */
function replaceAll<T>(list: T[], items: readonly T[]): void {
  list.length = 0;
  for (const item of items) list.push(item);
}

export function createPgBus(options: PgBusOptions): PgEventBus {
  const { sql, log } = options;
  const channel = options.channel ?? NOTIFY_CHANNEL;
  const tag = randomBytes(6).toString('base64url');
  const onListenerError = options.onListenerError ?? ((err: unknown) => log.error({ err }, 'event listener failed'));
  const conversations = new Map<string, Subscribed>();
  const credentialListeners = new Set<CredentialListener>();
  /**
   * The highest version this process knows was committed, by conversation (from its own changes, notifications and
   * reads). Everything up to it was committed before any later subscription, so it is where a new subscription's
   * cursor may start. Without one the cursor starts at 0: the first read covers the whole conversation.
   */
  const known = new Map<string, number>();
  let count = 0;
  let closed = false;

  const noteKnown = (conversationId: string, version: number) => {
    const had = known.get(conversationId);
    if (had !== undefined && had >= version) return;
    known.delete(conversationId);
    known.set(conversationId, version);
    if (known.size > KNOWN_LIMIT) known.delete(known.keys().next().value as string);
  };

  const deliver = (conv: Subscribed, event: BusEvent) => {
    if (event.type === 'message' && isTerminal(event.message.status)) conv.deltaEnds.delete(event.message.id);
    for (const listener of [...conv.listeners]) {
      try {
        listener(event);
      } catch (err) {
        onListenerError(err);
      }
    }
  };

  // ---- Receiving: per conversation, one ordered queue, drained by one async loop.

  const enqueue = (conv: Subscribed, item: Item) => {
    const last = conv.queue.at(-1);
    // A sync not yet started absorbs the next one (the one being drained may have read already).
    if (item.kind === 'sync' && last?.kind === 'sync' && (conv.queue.length > 1 || !conv.draining)) {
      last.v = last.v === undefined || item.v === undefined ? undefined : Math.max(last.v, item.v);
      return;
    }
    conv.queue.push(item);
    if (conv.queue.length > OUTBOX_LIMIT) shedQueue(conv);
    void drain(conv);
  };

  /**
   * A conversation whose reads keep failing holds too much: its oldest deltas go, a quarter of the limit at once, so
   * that an enqueue stays cheap on average (followers repair gaps by offset). The item being drained stays where it
   * is: the drain removes it when done.
   */
  const shedQueue = (conv: Subscribed) => {
    const busy = conv.draining ? 1 : 0;
    let excess = conv.queue.length - (OUTBOX_LIMIT * 3) / 4;
    const kept = conv.queue.slice(0, busy);
    for (let at = busy; at < conv.queue.length; at++) {
      const item = conv.queue[at]!;
      if (excess > 0 && (item.kind === 'delta' || item.kind === 'fetch-delta')) excess--;
      else kept.push(item);
    }
    replaceAll(conv.queue, kept);
  };

  /** Reads every change after the cursor and delivers it in version order (several pages if need be). */
  const sync = async (conv: Subscribed) => {
    for (let page = 0; page < 10_000; page++) {
      const changes = await readChangesAfter(sql, conv.id, conv.cursor, PAGE);
      if (!isActive(conv)) return;
      const { conversation, messages } = changes;
      if (conversation.clearedVersion > conv.cursor) {
        deliver(conv, { type: 'cleared', conversationId: conv.id, version: conversation.clearedVersion });
      }
      for (const message of messages) {
        conv.cursor = Math.max(conv.cursor, message.changedVersion);
        deliver(conv, { type: 'message', conversationId: conv.id, message });
      }
      if (messages.length < PAGE) {
        conv.cursor = Math.max(conv.cursor, conversation.version);
        noteKnown(conv.id, conv.cursor);
        return;
      }
    }
  };

  const fetchDelta = async (conv: Subscribed, item: Extract<Item, { kind: 'fetch-delta' }>) => {
    for (let attempt = 0; attempt < FETCH_DELTA_ATTEMPTS && isActive(conv); attempt++) {
      const row = await readMessage(sql, conv.id, item.messageId);
      if (!row) return;
      if (row.content.length >= item.offset + item.length) {
        remoteDelta(conv, item.messageId, item.offset, row.content.slice(item.offset, item.offset + item.length));
        return;
      }
      // The final message carries the whole text; a receiver that missed this delta repairs the gap by offset.
      if (isTerminal(row.status)) return;
      await sleep(FETCH_DELTA_PAUSE_MS);
    }
  };

  const remoteDelta = (conv: Subscribed, messageId: string, offset: number, text: string) => {
    const end = conv.deltaEnds.get(messageId);
    if (end !== undefined && offset < end) return; // a repeat
    conv.deltaEnds.set(messageId, offset + text.length);
    deliver(conv, { type: 'delta', conversationId: conv.id, messageId, offset, text });
  };

  const isActive = (conv: Subscribed) => !closed && conversations.get(conv.id) === conv;

  const drain = async (conv: Subscribed) => {
    if (conv.draining) return;
    conv.draining = true;
    let failures = 0;
    try {
      while (conv.queue.length > 0 && isActive(conv)) {
        const item = conv.queue[0]!;
        try {
          if (item.kind === 'local') {
            if (item.v !== undefined && item.v > conv.cursor + 1) await sync(conv);
            if (!isActive(conv)) return;
            deliver(conv, item.event);
            if (item.v !== undefined) conv.cursor = Math.max(conv.cursor, item.v);
          } else if (item.kind === 'sync') {
            if (item.v === undefined || item.v > conv.cursor) await sync(conv);
          } else if (item.kind === 'delta') {
            remoteDelta(conv, item.messageId, item.offset, item.text);
          } else {
            await fetchDelta(conv, item);
          }
          conv.queue.shift();
          failures = 0;
        } catch (err) {
          failures++;
          if (err instanceof AppError && err.code === 'not_found') {
            conv.queue.shift(); // the conversation is gone (its report was deleted)
            continue;
          }
          if (!isTransientDbError(err) && failures >= 5) {
            log.error({ err, conversationId: conv.id }, 'event bus: could not read changes; dropping one event');
            conv.queue.shift();
            continue;
          }
          if (failures === 1 || failures % 20 === 0) log.warn({ err, conversationId: conv.id, failures }, 'event bus: read failed; will retry');
          await sleep(backoffDelay(failures, BUS_RETRY));
        }
      }
    } finally {
      conv.draining = false;
    }
    // An item pushed while the last await settled, after the loop's check.
    if (conv.queue.length > 0 && isActive(conv)) void drain(conv);
  };

  // Our own notifications come back too: recognised by their opening bytes, without parsing them (each batch of
  // deltas would otherwise be parsed once more by the instance that sent it).
  const ownPrefix = `{"i":${JSON.stringify(tag)},`;
  const onNotification = (payload: string) => {
    if (payload.startsWith(ownPrefix)) return;
    let wire: Wire;
    try {
      wire = JSON.parse(payload) as Wire;
    } catch {
      return;
    }
    if (wire.i === tag) return; // our own: delivered when published
    if (wire.t === 'b') {
      if (Array.isArray(wire.e)) for (const d of wire.e) onWire({ ...d, i: wire.i });
      return;
    }
    onWire(wire);
  };

  const onWire = (wire: Wire) => {
    if (wire.t === 'b') return;
    if (wire.t === 'k') {
      if (typeof wire.k === 'string') notifyCredentialEnded(credentialListeners, wire.k, onListenerError);
      return;
    }
    if (typeof wire.c !== 'string') return;
    if ((wire.t === 'm' || wire.t === 'c') && typeof wire.v === 'number') noteKnown(wire.c, wire.v);
    const conv = conversations.get(wire.c);
    if (!conv) return;
    switch (wire.t) {
      case 'm':
      case 'c':
        enqueue(conv, { kind: 'sync', v: wire.v });
        break;
      case 'd':
        if (conv.queue.length === 0 && !conv.draining) remoteDelta(conv, wire.m, wire.o, wire.x);
        else enqueue(conv, { kind: 'delta', messageId: wire.m, offset: wire.o, text: wire.x });
        break;
      case 'D':
        enqueue(conv, { kind: 'fetch-delta', messageId: wire.m, offset: wire.o, length: wire.n });
        break;
      case 's':
        // Not ordered with the rest: a stop must reach the answer's owner even while reads are failing.
        deliver(conv, { type: 'stop', conversationId: wire.c, messageId: wire.m });
        break;
      case 'r':
        deliver(conv, { type: 'revoked', conversationId: wire.c, userId: wire.u });
        break;
      case 'h':
        deliver(conv, { type: 'hidden', conversationId: wire.c, exceptUserId: wire.u });
        break;
    }
  };

  /** After a (re)connect: notifications sent while we were away are gone, so re-read every subscribed conversation. */
  const resyncAll = () => {
    for (const conv of conversations.values()) enqueue(conv, { kind: 'sync', v: undefined });
  };

  const listener: NotificationListener = listenForNotifications({
    url: options.url,
    channel,
    applicationName: options.applicationName ?? `report-chat listen ${options.instanceId}`,
    onNotification,
    onListening: resyncAll,
    minBackoffMs: options.reconnectBackoffMs?.min,
    maxBackoffMs: options.reconnectBackoffMs?.max,
    onLost: (err, attempt) => {
      if (attempt === 1 || attempt % 20 === 0) log.warn({ err, attempt }, 'event bus: listening connection lost; reconnecting');
    },
  });

  // A notification can be lost without the connection dropping (its sender died between commit and NOTIFY):
  // compare the versions of the subscribed conversations now and then.
  let checking = false;
  const resyncTimer = setInterval(() => {
    if (checking || conversations.size === 0 || closed) return;
    checking = true;
    const ids = [...conversations.keys()];
    readConversationVersions(sql, ids)
      .then((rows) => {
        for (const row of rows) {
          const conv = conversations.get(row.id);
          if (conv && row.version > conv.cursor) enqueue(conv, { kind: 'sync', v: row.version });
        }
      })
      .catch((err: unknown) => log.debug({ err }, 'event bus: version check failed'))
      .finally(() => {
        checking = false;
      });
  }, options.resyncMs ?? 5_000);
  resyncTimer.unref();

  // ---- Sending: one ordered outbox, flushed in batches (one statement each), retried while the database is away.

  const outbox: Wire[] = [];
  /** The first this many of the outbox are being sent: they must not change any more. */
  let inFlight = 0;
  let flushing: Promise<void> | undefined;
  /** Set by close(): how long the last notifications may still take. */
  let flushDeadline = Infinity;
  /** When the last batch was sent; and what ends a gathering wait early (something other than a delta to send). */
  let lastBatchAt = 0;
  let wakeGathering: (() => void) | undefined;
  /** Wires in the outbox other than deltas: while there are none, a batch may wait to gather more deltas. */
  let urgent = 0;
  const isDelta = (w: Wire) => w.t === 'd' || w.t === 'D';
  // A UTF-16 code unit is at most 6 bytes of JSON (`\u001f`), so most deltas fit without being encoded to check.
  const fits = (wire: Wire) =>
    (wire.t === 'd' && wire.x.length * 6 + 300 <= MAX_NOTIFY_PAYLOAD_BYTES) || Buffer.byteLength(JSON.stringify(wire)) <= MAX_NOTIFY_PAYLOAD_BYTES;

  /**
   * The outbox is full (the database away for long): the oldest waiting deltas go, a quarter of the limit at once,
   * so that a publish stays cheap on average; followers on other instances repair the gaps by offset. Anything else
   * goes only when there is no delta left to drop, oldest first.
   */
  const shed = () => {
    let excess = outbox.length - (OUTBOX_LIMIT * 3) / 4;
    const kept = outbox.slice(0, inFlight);
    for (let at = inFlight; at < outbox.length; at++) {
      const wire = outbox[at]!;
      if (excess > 0 && isDelta(wire)) excess--;
      else kept.push(wire);
    }
    const over = kept.length - OUTBOX_LIMIT;
    if (over > 0) for (const dropped of kept.splice(inFlight, over)) if (!isDelta(dropped)) urgent--;
    replaceAll(outbox, kept);
  };

  /** The first wires of the outbox that one statement carries: at least one, at most about BATCH_BYTES of payload. */
  const nextBatch = (): Wire[] => {
    let bytes = 0;
    let end = 0;
    while (end < outbox.length && (end === 0 || bytes < BATCH_BYTES)) {
      const wire = outbox[end++]!;
      bytes += wire.t === 'd' ? wire.x.length + 160 : 200;
    }
    return outbox.slice(0, end);
  };

  const send = (wire: Wire) => {
    const last = outbox.length > inFlight ? outbox.at(-1) : undefined;
    // While a batch is on its way, consecutive deltas of one answer pile up: send them as one.
    const merged =
      wire.t === 'd' && last?.t === 'd' && last.c === wire.c && last.m === wire.m && last.o + last.x.length === wire.o
        ? { ...last, x: last.x + wire.x }
        : undefined;
    if (merged && fits(merged)) outbox[outbox.length - 1] = merged;
    else {
      outbox.push(wire);
      if (!isDelta(wire)) urgent++;
    }
    if (outbox.length > OUTBOX_LIMIT) shed();
    if (!isDelta(wire)) wakeGathering?.();
    flushing ??= flush().finally(() => {
      flushing = undefined;
    });
  };

  const flush = async () => {
    await Promise.resolve(); // gather what this tick publishes into one batch
    let failures = 0;
    while (outbox.length > 0 && Date.now() < flushDeadline) {
      const wait = lastBatchAt + DELTA_GATHER_MS - Date.now();
      if (wait > 0 && !closed && urgent === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          wakeGathering = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wakeGathering = undefined;
        continue;
      }
      lastBatchAt = Date.now();
      const batch = nextBatch();
      inFlight = batch.length;
      try {
        await sendNotifications(sql, channel, payloadsOf(batch));
        outbox.splice(0, batch.length);
        for (const w of batch) if (!isDelta(w)) urgent--;
        failures = 0;
      } catch (err) {
        failures++;
        if (failures === 1 || failures % 20 === 0) log.warn({ err, failures, pending: outbox.length }, 'event bus: NOTIFY failed; will retry');
        await sleep(backoffDelay(failures, BUS_RETRY));
      } finally {
        inFlight = 0;
      }
    }
  };

  /**
   * The batch as NOTIFY payloads, in order: runs of deltas with their text packed into as few payloads as fit (one
   * notification, and one parse per receiver, for many answers' deltas), anything else one payload each.
   */
  const payloadsOf = (batch: readonly Wire[]): string[] => {
    const payloads: string[] = [];
    let run: string[] = [];
    let runBytes = 0;
    const head = `{"i":${JSON.stringify(tag)},"t":"b","e":[`;
    const endRun = () => {
      if (run.length === 1) payloads.push(`{"i":${JSON.stringify(tag)},${run[0]!.slice(1)}`);
      else if (run.length > 1) payloads.push(`${head}${run.join(',')}]}`);
      run = [];
      runBytes = head.length + 2;
    };
    endRun();
    for (const wire of batch) {
      if (wire.t !== 'd') {
        endRun();
        payloads.push(JSON.stringify(wire));
        continue;
      }
      const { i: _i, ...delta } = wire;
      const json = JSON.stringify(delta);
      const bytes = Buffer.byteLength(json) + 1;
      if (runBytes + bytes > MAX_NOTIFY_PAYLOAD_BYTES) endRun();
      run.push(json);
      runBytes += bytes;
    }
    endRun();
    return payloads;
  };

  const toWire = (event: BusEvent): Wire => {
    switch (event.type) {
      case 'message':
        return { i: tag, t: 'm', c: event.conversationId, v: event.message.changedVersion };
      case 'cleared':
        return { i: tag, t: 'c', c: event.conversationId, v: event.version };
      case 'stop':
        return { i: tag, t: 's', c: event.conversationId, m: event.messageId };
      case 'revoked':
        return { i: tag, t: 'r', c: event.conversationId, u: event.userId };
      case 'hidden':
        return { i: tag, t: 'h', c: event.conversationId, u: event.exceptUserId };
      case 'delta': {
        const wire: Wire = { i: tag, t: 'd', c: event.conversationId, m: event.messageId, o: event.offset, x: event.text };
        if (fits(wire)) return wire;
        return { i: tag, t: 'D', c: event.conversationId, m: event.messageId, o: event.offset, n: event.text.length };
      }
    }
  };

  return {
    publish(event) {
      if (closed) return;
      const v = event.type === 'message' ? event.message.changedVersion : event.type === 'cleared' ? event.version : undefined;
      if (v !== undefined) noteKnown(event.conversationId, v);
      send(toWire(event));
      const conv = conversations.get(event.conversationId);
      if (!conv) return;
      if (event.type === 'stop' || event.type === 'revoked' || event.type === 'hidden') return deliver(conv, event);
      if (conv.queue.length === 0 && !conv.draining && (v === undefined || v <= conv.cursor + 1)) {
        deliver(conv, event);
        if (v !== undefined) conv.cursor = Math.max(conv.cursor, v);
        return;
      }
      enqueue(conv, { kind: 'local', event, v });
    },
    publishCredentialEnded(credentialKey) {
      if (closed) return;
      send({ i: tag, t: 'k', k: credentialKey });
      notifyCredentialEnded(credentialListeners, credentialKey, onListenerError);
    },
    onCredentialEnded(listener) {
      credentialListeners.add(listener);
      return () => void credentialListeners.delete(listener);
    },
    subscribe(conversationId, fn) {
      let conv = conversations.get(conversationId);
      if (!conv) {
        conv = {
          id: conversationId,
          listeners: new Set(),
          cursor: known.get(conversationId) ?? 0,
          queue: [],
          draining: false,
          deltaEnds: new Map(),
        };
        conversations.set(conversationId, conv);
      }
      const mine = conv;
      mine.listeners.add(fn);
      count++;
      return unsubscribeOnce(() => {
        count--;
        mine.listeners.delete(fn);
        if (mine.listeners.size === 0 && conversations.get(conversationId) === mine) {
          conversations.delete(conversationId);
          noteKnown(conversationId, mine.cursor);
        }
      });
    },
    size: () => count,
    get listening() {
      return listener.listening;
    },
    ready: listener.ready,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(resyncTimer);
      // What this process published last (answers saved as interrupted at shutdown) still goes out.
      flushDeadline = Date.now() + 2_000;
      const deadline = sleep(2_000, undefined, { ref: false });
      await Promise.race([flushing ?? (outbox.length > 0 ? flush() : undefined), deadline]);
      await listener.close();
    },
  };
}
